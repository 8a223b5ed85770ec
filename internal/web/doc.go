// Package web is the web layer shared by the node and the hub: the Echo
// set-up (middleware, metrics, health checks, one central error handler),
// content negotiation between HTML and ActivityPub/JSON, the i18n catalogue
// (English and Spanish, complete), the page layout and html/template
// renderer, embedded static assets, and accessible SVG charts.
//
// Everything is embedded in the binary: pages never load anything from a
// CDN, and they work without JavaScript.
//
// # Catalogue
//
// There is ONE shared catalogue, internal/web/locales/{en,es}.toml, to which
// the node and hub packages append their strings. A test checks that both
// files have the same message ids and that every id used from a template
// ({{T "id"}}) or from Go (web.T(c, "id")) anywhere under node/, hub/, cmd/
// and internal/ exists.
//
// # Charts
//
// BarChart, StackedBar and ProgressBar return inline SVG with role="img",
// <title> and <desc>. A chart is never the only way to read its numbers:
// render BarTable / StackedTable (or DataTable) beside it.
package web
