package pages

import (
	"net/url"
	"strings"
	"sync"

	"github.com/ogpnet/ogpnet/hub/readmodel"
)

// Readable URLs (issue 12 item 7): a pilot is /pilots/<slug>, where the slug
// is its account name ("jalisco"), or name@host when two members share a
// name; a commitment is /pilots/<slug>/commitments/<key>, where the key is
// the last segment of its IRI ("JAL0001") when that is unique within the
// pilot. Anything without a readable form keeps the IRI-in-the-query URL
// (/pilot?actor=, /commitment?id=), which otherwise redirects (301) to the
// readable one.

// siteIndex resolves pilots and commitments to their paths and back. It is
// derived from one version of the read model and shared read-only by every
// request of that version, so building a page costs lookups, not scans.
type siteIndex struct {
	version uint64
	pilots  map[string]readmodel.PilotInfo // visible pilots by actor
	slugOf  map[string]string              // actor → slug
	bySlug  map[string]string              // lower-cased slug → actor
	byOld   map[string]string              // lower-cased "name@host" handle → actor
	byKey   map[string]string              // actor + "\x00" + key → commitment IRI (unique keys only)
	dupKey  map[string]bool                // actor + "\x00" + key shared by several commitments
}

var (
	indexMu   sync.Mutex
	indexLast = map[*readmodel.Model]*siteIndex{}
)

// indexPilots returns the index of m's current version, building it once
// per version.
func indexPilots(m *readmodel.Model) *siteIndex {
	ver := m.Version()
	indexMu.Lock()
	idx := indexLast[m]
	indexMu.Unlock()
	if idx != nil && idx.version == ver {
		return idx
	}
	idx = buildIndex(m, ver)
	indexMu.Lock()
	if len(indexLast) > 8 { // tests make many models; a hub has one
		clear(indexLast)
	}
	indexLast[m] = idx
	indexMu.Unlock()
	return idx
}

func buildIndex(m *readmodel.Model, ver uint64) *siteIndex {
	idx := &siteIndex{version: ver, pilots: map[string]readmodel.PilotInfo{}, slugOf: map[string]string{},
		bySlug: map[string]string{}, byOld: map[string]string{}, byKey: map[string]string{}, dupKey: map[string]bool{}}
	// Slugs are decided over every pilot, hidden ones included, so that
	// suspending one member does not rename another's pages.
	all := m.AllPilots()
	names := map[string]int{}
	for _, p := range all {
		if user, _ := handleParts(p.Handle); user != "" {
			names[strings.ToLower(user)]++
		}
	}
	for _, p := range all {
		if p.Hidden() {
			continue
		}
		idx.pilots[p.Actor] = p.PilotInfo
		user, host := handleParts(p.Handle)
		if user == "" {
			continue
		}
		slug := user
		if names[strings.ToLower(user)] > 1 && host != "" {
			slug = user + "@" + host
		}
		idx.slugOf[p.Actor] = slug
		idx.bySlug[strings.ToLower(slug)] = p.Actor
		if host != "" {
			idx.byOld[strings.ToLower(user+"@"+host)] = p.Actor
		}
	}
	m.Each(func(c readmodel.Commitment) bool {
		k := iriKey(c.ID)
		if k == "" {
			return true
		}
		pk := c.Pilot + "\x00" + k
		if _, taken := idx.byKey[pk]; taken || idx.dupKey[pk] {
			// Two commitments of one pilot end alike: neither gets a
			// readable address, so none can be mistaken for the other.
			delete(idx.byKey, pk)
			idx.dupKey[pk] = true
			return true
		}
		idx.byKey[pk] = c.ID
		return true
	})
	return idx
}

// handleParts splits "@name@host" (or "name@host") into name and host; ""
// when the handle is not of that shape.
func handleParts(handle string) (user, host string) {
	h := strings.TrimPrefix(handle, "@")
	user, host, _ = strings.Cut(h, "@")
	if user == "" || strings.ContainsAny(user, "/?#") || strings.ContainsAny(host, "/?#") {
		return "", ""
	}
	return user, host
}

// iriKey is the last path segment of a commitment IRI ("JAL0001").
func iriKey(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	p := strings.TrimSuffix(u.Path, "/")
	k := p[strings.LastIndexByte(p, '/')+1:]
	if k == "" || u.RawQuery != "" || u.Fragment != "" {
		return ""
	}
	return k
}

// pilotPath is a pilot's hub page.
func (idx *siteIndex) pilotPath(actor string) string {
	if s, ok := idx.slugOf[actor]; ok {
		return PathPilots + "/" + url.PathEscape(s)
	}
	return PathPilotByIRI + "?actor=" + url.QueryEscape(actor)
}

// commitmentPath is a commitment's hub page.
func (idx *siteIndex) commitmentPath(id, pilot string) string {
	s, ok := idx.slugOf[pilot]
	k := iriKey(id)
	if ok && k != "" && idx.byKey[pilot+"\x00"+k] == id {
		return PathPilots + "/" + url.PathEscape(s) + "/commitments/" + url.PathEscape(k)
	}
	return CommitmentPath(id)
}

// pilotBySlug finds a visible pilot by slug; old reports that the slug is
// the older handle form, which redirects.
func (idx *siteIndex) pilotBySlug(slug string) (actor string, old bool) {
	l := strings.ToLower(slug)
	if a, ok := idx.bySlug[l]; ok {
		return a, false
	}
	if a, ok := idx.byOld[l]; ok {
		return a, true
	}
	return "", false
}

// commitmentByKey finds a commitment IRI by its pilot and key.
func (idx *siteIndex) commitmentByKey(actor, key string) (string, bool) {
	id, ok := idx.byKey[actor+"\x00"+key]
	return id, ok
}

// ref returns the link to a pilot, falling back to the name the commitment
// carried when the pilot is not (or no longer) listed.
func (idx *siteIndex) ref(actor, name string) pilotRef {
	if p, ok := idx.pilots[actor]; ok {
		return pilotRef{Name: p.Name, Path: idx.pilotPath(actor)}
	}
	if name == "" {
		name = actor
	}
	return pilotRef{Name: name, Path: idx.pilotPath(actor)}
}
