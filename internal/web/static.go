package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed static
var staticRoot embed.FS

// staticFS is the static folder itself, so /static/style.css maps to style.css.
var staticFS = func() fs.FS {
	sub, err := fs.Sub(staticRoot, "static")
	if err != nil {
		panic(err)
	}
	return sub
}()

// staticHashes holds a short content hash per asset, used as the ?v=
// version in URLs and as the ETag.
var staticHashes = func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(staticFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(staticFS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = hex.EncodeToString(sum[:8])
		return nil
	})
	return m
}()

// StaticURL returns the URL of an embedded asset, e.g. "/static/style.css?v=1a2b…".
// The version changes with the content, so the asset can be cached for a
// year without ever serving a stale one.
func StaticURL(name string) string {
	name = strings.TrimPrefix(name, "/")
	if v, ok := staticHashes[name]; ok {
		return StaticPath + "/" + name + "?v=" + v
	}
	return StaticPath + "/" + name
}

// registerStatic serves the embedded assets under /static/.
func registerStatic(e *echo.Echo) {
	files := http.StripPrefix(StaticPath+"/", http.FileServerFS(staticFS))
	e.GET(StaticPath+"/*", func(c echo.Context) error {
		name := c.Param("*")
		hash, ok := staticHashes[name]
		if !ok {
			return echo.ErrNotFound // also refuses directory listings
		}
		h := c.Response().Header()
		h.Set("ETag", `"`+hash+`"`)
		if c.QueryParam("v") == hash {
			h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			// Unversioned URL: cache briefly, then revalidate by ETag.
			h.Set(echo.HeaderCacheControl, "public, max-age=300")
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	// Browsers ask for /favicon.ico whatever the page links; answer with the
	// SVG icon instead of a 404 on every first visit.
	e.GET("/favicon.ico", func(c echo.Context) error {
		b, err := fs.ReadFile(staticFS, "favicon.svg")
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
		return c.Blob(http.StatusOK, "image/svg+xml", b)
	})
}
