// Package service is a node's domain operations: every write validates,
// is stored through node/planstore, and is then published as an activity
// through federation (Create, Update with a newer "updated", or Delete with
// a Tombstone); Reconcile, run at start, publishes what a crash left
// unpublished; Import runs node/importer and publishes what it wrote. It
// knows nothing of HTTP: node/web's handlers, the demo and the tests all
// call it, so every path validates and publishes alike.
package service
