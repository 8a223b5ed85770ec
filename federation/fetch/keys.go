package fetch

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ogpnet/ogpnet/federation/httpsig"
)

// ErrKeyNotClaimed is returned when a key cannot be tied to its owner: the
// fetched document does not list the key, or the owner does not list it
// back.
var ErrKeyNotClaimed = errors.New("fetch: key not claimed by its owner")

// keyDoc covers the three shapes a keyId can dereference to: an actor with
// publicKey, GoToSocial's actor stub (same shape, owner elsewhere), and a
// standalone key document {id, owner, publicKeyPem}.
type keyDoc struct {
	ID           string          `json:"id"`
	Owner        string          `json:"owner"`
	PublicKeyPem string          `json:"publicKeyPem"`
	PublicKey    json.RawMessage `json:"publicKey"`
}

type keyEntry struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPem string `json:"publicKeyPem"`
}

// findKey returns the entry of publicKey (an object or an array of them)
// whose id is keyID.
func findKey(raw json.RawMessage, keyID string) (keyEntry, bool) {
	var one keyEntry
	if json.Unmarshal(raw, &one) == nil && one.ID == keyID {
		return one, true
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) == nil {
		for _, m := range many {
			var k keyEntry
			if json.Unmarshal(m, &k) == nil && k.ID == keyID {
				return k, true
			}
		}
	}
	return keyEntry{}, false
}

// KeyFetcher returns a function, suitable for httpsig.NewKeyCache, that
// resolves a keyId to an RSA public key and its owner's IRI:
//
//   - it fetches the keyId without its fragment with f.Get, so the document's
//     id must equal that IRI;
//   - an actor whose publicKey (object or array) has id == keyId and owner
//     equal to the actor (or absent) yields the key directly;
//   - a GoToSocial-style stub, whose publicKey.owner is another IRI, makes it
//     fetch the owner (signed) and require the owner's publicKey to list the
//     same keyId: a two-way claim, so no document can assign a key to an
//     actor that does not list it. The owner's PEM is used;
//   - a standalone key document {id, owner, publicKeyPem} likewise requires
//     the owner to list the key, and the two PEMs to agree if both are given.
func KeyFetcher(f *Fetcher) func(ctx context.Context, keyID string) (crypto.PublicKey, string, error) {
	return func(ctx context.Context, keyID string) (crypto.PublicKey, string, error) {
		u, err := parseIRI(keyID)
		if err != nil {
			return nil, "", err
		}
		docIRI := u.String()
		raw, id, err := f.get(ctx, docIRI)
		if err != nil {
			return nil, "", err
		}
		if id != docIRI {
			// GoToSocial serves, at a fragment-less keyId, a stub whose id
			// is the actor's. Such a document is trusted for nothing but the
			// name of the owner; the key itself is taken from the owner,
			// fetched with the strict id check, which must list keyId.
			return stubKey(ctx, f, raw, docIRI, id, keyID)
		}
		var d keyDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidDocument, docIRI, err)
		}

		var pemText, owner string
		switch {
		case d.PublicKeyPem != "" && len(d.PublicKey) == 0:
			// Standalone key document. It must be the key itself, not a
			// document that happens to sit at the fragment-less IRI.
			if d.ID != keyID {
				return nil, "", fmt.Errorf("%w: key document %s is not %s", ErrKeyNotClaimed, d.ID, keyID)
			}
			if d.Owner == "" {
				return nil, "", fmt.Errorf("%w: key document %s has no owner", ErrKeyNotClaimed, keyID)
			}
			owner = d.Owner
			back, err := ownerKey(ctx, f, owner, keyID)
			if err != nil {
				return nil, "", err
			}
			if back.PublicKeyPem != "" && back.PublicKeyPem != d.PublicKeyPem {
				return nil, "", fmt.Errorf("%w: %s and its owner publish different keys", ErrKeyNotClaimed, keyID)
			}
			pemText = d.PublicKeyPem
		default:
			k, ok := findKey(d.PublicKey, keyID)
			if !ok {
				return nil, "", fmt.Errorf("%w: %s does not list key %s", ErrKeyNotClaimed, docIRI, keyID)
			}
			owner = k.Owner
			if owner == "" {
				owner = d.ID
			}
			if owner == d.ID {
				pemText = k.PublicKeyPem
				break
			}
			// GoToSocial: the keyId document is a stub; the owner is the
			// real actor and must list the same key.
			back, err := ownerKey(ctx, f, owner, keyID)
			if err != nil {
				return nil, "", err
			}
			pemText = back.PublicKeyPem
		}
		pub, err := httpsig.ParsePublicKeyPEM(pemText)
		if err != nil {
			return nil, "", fmt.Errorf("fetch: key %s: %w", keyID, err)
		}
		return pub, owner, nil
	}
}

// ownerKey fetches owner and returns its publicKey entry for keyID.
func ownerKey(ctx context.Context, f *Fetcher, owner, keyID string) (keyEntry, error) {
	raw, err := f.Get(ctx, owner)
	if err != nil {
		return keyEntry{}, fmt.Errorf("fetching owner of %s: %w", keyID, err)
	}
	var od keyDoc
	if err := json.Unmarshal(raw, &od); err != nil {
		return keyEntry{}, fmt.Errorf("%w: %s: %v", ErrInvalidDocument, owner, err)
	}
	k, ok := findKey(od.PublicKey, keyID)
	if !ok {
		return keyEntry{}, fmt.Errorf("%w: owner %s does not list key %s", ErrKeyNotClaimed, owner, keyID)
	}
	if k.Owner != "" && k.Owner != owner {
		return keyEntry{}, fmt.Errorf("%w: owner %s says key %s belongs to %s", ErrKeyNotClaimed, owner, keyID, k.Owner)
	}
	return k, nil
}

// stubKey resolves keyID through a GoToSocial-style stub found at docIRI.
func stubKey(ctx context.Context, f *Fetcher, raw []byte, docIRI, id, keyID string) (crypto.PublicKey, string, error) {
	if docIRI != keyID {
		return nil, "", fmt.Errorf("%w: fetched %s, document id %q", ErrIDMismatch, docIRI, id)
	}
	var d keyDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrInvalidDocument, docIRI, err)
	}
	k, ok := findKey(d.PublicKey, keyID)
	if !ok || k.Owner == "" || k.Owner != id {
		return nil, "", fmt.Errorf("%w: fetched %s, document id %q does not own key %s", ErrIDMismatch, docIRI, id, keyID)
	}
	back, err := ownerKey(ctx, f, k.Owner, keyID)
	if err != nil {
		return nil, "", err
	}
	pub, err := httpsig.ParsePublicKeyPEM(back.PublicKeyPem)
	if err != nil {
		return nil, "", fmt.Errorf("fetch: key %s: %w", keyID, err)
	}
	return pub, k.Owner, nil
}
