// Package templates embeds the hub's page templates (rendered inside
// internal/web's shared layout by web.NewRenderer) and the hub's own
// stylesheet, so the binary carries everything and no page loads from a
// CDN.
package templates

import (
	"embed"
	"io/fs"
)

// FS holds the page templates; files starting with "_" are partials
// parsed into every page.
//
//go:embed *.html
var FS embed.FS

//go:embed assets
var assets embed.FS

// Assets holds hub.css and any other static file of the hub pages, served
// by hub/pages under /hub-assets/.
var Assets = func() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}()
