// Package ogp is the "ogp" ActivityStreams extension vocabulary shared by the
// node (which produces it) and the hub (which consumes it): the JSON wire
// forms of an action plan (Page), a commitment (Article) and a progress update
// (Note), the JSON-LD context that defines their extension terms, the
// Create/Update/Delete wrappers, and strict parsers for untrusted input.
//
// Key spelling: every extension term is written as a compact IRI with the
// "ogp:" prefix ("ogp:identifier", "ogp:milestones", …) at every nesting level,
// and ActivityStreams terms stay unprefixed ("name", "content", "id"). The
// prefix keeps our terms from ever colliding with present or future
// ActivityStreams terms and lets a consumer that does no JSON-LD processing
// still read the keys literally. docs/vocabulary.md is the reference.
//
// The package is pure data: no HTTP, no storage, no sanitising of HTML (the
// consumer sanitises content it renders).
package ogp

import (
	"encoding/json"
	"maps"
)

// Namespace and well-known IRIs.
const (
	// NS is the namespace IRI of the ogp vocabulary; terms expand to NS+term.
	NS = "https://ogpnet.org/ns#"
	// Prefix is the compact-IRI prefix bound to NS in every document.
	Prefix = "ogp"
	// ActivityStreamsContext is the ActivityStreams 2.0 context IRI.
	ActivityStreamsContext = "https://www.w3.org/ns/activitystreams"
	// SecurityContext is the security vocabulary context Mastodon expects
	// beside ActivityStreams (publicKey and friends).
	SecurityContext = "https://w3id.org/security/v1"
	// Public is the ActivityStreams special collection addressing everyone.
	Public = "https://www.w3.org/ns/activitystreams#Public"
	// ContextPath is where every server serves ContextDocument, relative to
	// its base URL.
	ContextPath = "/ns/ogp"
	// ContentType is the media type for the JSON this package produces.
	ContentType = "application/activity+json"
)

// termDefinitions are the ogp term definitions. A compact-IRI term may only
// map to its own expansion (JSON-LD 1.1), so the …Map language-map forms
// are predicates of their own (ogp:problemMap), not aliases of ogp:problem.
// The map is built once and
// copied out, never handed to callers, so nobody can mutate the shared
// context by accident.
var termDefinitions = map[string]any{
	"ogp": NS,
	"xsd": "http://www.w3.org/2001/XMLSchema#",
	// Mastodon's own context defines Hashtag; the AS context does not.
	"Hashtag": "https://www.w3.org/ns/activitystreams#Hashtag",

	"ogp:Milestone":       map[string]any{"@id": "ogp:Milestone"},
	"ogp:identifier":      map[string]any{"@type": "xsd:string"},
	"ogp:actionPlan":      map[string]any{"@type": "@id"},
	"ogp:jurisdiction":    map[string]any{"@type": "xsd:string"},
	"ogp:startDate":       map[string]any{"@type": "xsd:date"},
	"ogp:endDate":         map[string]any{"@type": "xsd:date"},
	"ogp:completedDate":   map[string]any{"@type": "xsd:date"},
	"ogp:date":            map[string]any{"@type": "xsd:date"},
	"ogp:start":           map[string]any{"@type": "xsd:date"},
	"ogp:end":             map[string]any{"@type": "xsd:date"},
	"ogp:leadInstitution": map[string]any{"@type": "xsd:string"},
	"ogp:otherActors":     map[string]any{"@id": "ogp:otherActors"},
	"ogp:government":      map[string]any{"@container": "@set"},
	"ogp:civilSociety":    map[string]any{"@container": "@set"},
	"ogp:problem":         map[string]any{"@id": "ogp:problem"},
	"ogp:problemMap":      map[string]any{"@id": "ogp:problemMap", "@container": "@language"},
	"ogp:objective":       map[string]any{"@id": "ogp:objective"},
	"ogp:objectiveMap":    map[string]any{"@id": "ogp:objectiveMap", "@container": "@language"},
	"ogp:lead":            map[string]any{"@id": "ogp:lead"},
	"ogp:leadMap":         map[string]any{"@id": "ogp:leadMap", "@container": "@language"},
	"ogp:description":     map[string]any{"@id": "ogp:description"},
	"ogp:descriptionMap":  map[string]any{"@id": "ogp:descriptionMap", "@container": "@language"},
	"ogp:deliverable":     map[string]any{"@id": "ogp:deliverable"},
	"ogp:deliverableMap":  map[string]any{"@id": "ogp:deliverableMap", "@container": "@language"},
	"ogp:values":          map[string]any{"@container": "@set"},
	"ogp:policyAreas":     map[string]any{"@container": "@set"},
	"ogp:taxonomy":        map[string]any{"@type": "xsd:string"},
	"ogp:milestones":      map[string]any{"@container": "@list"},
	"ogp:status":          map[string]any{"@type": "xsd:string"},
	"ogp:completion":      map[string]any{"@type": "xsd:string"},
	"ogp:irm":             map[string]any{"@id": "ogp:irm"},
	"ogp:verifiable":      map[string]any{"@type": "xsd:string"},
	"ogp:potentialImpact": map[string]any{"@type": "xsd:string"},
	"ogp:starred":         map[string]any{"@type": "xsd:string"},
	"ogp:didItOpenGovernment": map[string]any{
		"@type": "xsd:string",
	},
	"ogp:milestoneChanges": map[string]any{"@container": "@list"},
	"ogp:milestone":        map[string]any{"@type": "@id"},
	"ogp:evidence":         map[string]any{"@type": "@id", "@container": "@set"},
	"ogp:period":           map[string]any{"@id": "ogp:period"},
	"ogp:commitments":      map[string]any{"@type": "@id", "@container": "@list"},
	"ogp:guidelines":       map[string]any{"@container": "@set"},
	"ogp:key":              map[string]any{"@type": "xsd:string"},
	"ogp:level":            map[string]any{"@type": "xsd:string"},
	"ogp:participation":    map[string]any{"@id": "ogp:participation"},
	"ogp:development":      map[string]any{"@type": "xsd:string"},
	"ogp:implementation":   map[string]any{"@type": "xsd:string"},
}

// Terms returns a fresh copy of the ogp term definitions: the third element
// of every object's "@context" and the body of ContextDocument.
func Terms() map[string]any {
	out := make(map[string]any, len(termDefinitions))
	for k, v := range termDefinitions {
		if m, ok := v.(map[string]any); ok {
			v = maps.Clone(m)
		}
		out[k] = v
	}
	return out
}

// JSONLDContext returns the "@context" value every top-level document
// carries: ActivityStreams, the security vocabulary and the ogp terms inline,
// so consumers never need to fetch our context to understand a document.
func JSONLDContext() []any {
	return []any{ActivityStreamsContext, SecurityContext, Terms()}
}

// ContextDocument returns the JSON-LD context document served at
// {base}/ns/ogp. It holds the same term definitions that documents carry
// inline; serving it makes the namespace dereferenceable.
func ContextDocument() []byte {
	b, err := json.MarshalIndent(map[string]any{"@context": Terms()}, "", "  ")
	if err != nil {
		// The input is a constant made of strings and maps: unreachable.
		panic("ogp: context document: " + err.Error())
	}
	return append(b, '\n')
}
