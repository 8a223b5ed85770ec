package store

import (
	_ "github.com/FerretDB/FerretDB/ferretdb"
	_ "go.mongodb.org/mongo-driver/v2/mongo"
	_ "github.com/labstack/echo/v4"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/go-ap/activitypub"
	_ "github.com/go-fed/httpsig"
	_ "github.com/zitadel/oidc/v3/pkg/op"
	_ "github.com/chromedp/chromedp"
	_ "github.com/microcosm-cc/bluemonday"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/nicksnyder/go-i18n/v2/i18n"
	_ "golang.org/x/oauth2"
)
