package fetch

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/ogpnet/ogpnet/federation/httpsig"
)

func actorJSON(id, keyID, owner, pem string) string {
	return `{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"],` +
		`"id":"` + id + `","type":"Person","preferredUsername":"alice","inbox":"` + id + `/inbox",` +
		`"publicKey":{"id":"` + keyID + `","owner":"` + owner + `","publicKeyPem":` + strconv.Quote(pem) + `}}`
}

func TestKeyFetcher(t *testing.T) {
	s := newAPServer(t, "gts")
	ctx := context.Background()
	resolve := KeyFetcher(newFetcher(Guard{DevLocalhost: true}))

	t.Run("Mastodon actor with fragment key", func(t *testing.T) {
		actor := s.base + "/users/masto"
		s.doc("/users/masto", actorJSON(actor, actor+"#main-key", actor, remotePEM))
		pub, owner, err := resolve(ctx, actor+"#main-key")
		if err != nil {
			t.Fatal(err)
		}
		if owner != actor || !remoteKey.PublicKey.Equal(pub) {
			t.Fatalf("owner %q, key equal %v", owner, remoteKey.PublicKey.Equal(pub))
		}
		if _, _, err := resolve(ctx, actor+"#other-key"); !errors.Is(err, ErrKeyNotClaimed) {
			t.Fatalf("unlisted fragment: %v", err)
		}
	})

	t.Run("GoToSocial stub resolved through the owner", func(t *testing.T) {
		actor := s.base + "/users/alice"
		keyID := actor + "/main-key"
		s.doc("/users/alice/main-key", `{"id":"`+keyID+`","type":"Person","preferredUsername":"alice",`+
			`"publicKey":{"id":"`+keyID+`","owner":"`+actor+`","publicKeyPem":`+strconv.Quote(remotePEM)+`}}`)
		s.doc("/users/alice", actorJSON(actor, keyID, actor, remotePEM))
		before := len(s.requests())
		pub, owner, err := resolve(ctx, keyID)
		if err != nil {
			t.Fatal(err)
		}
		if owner != actor || !remoteKey.PublicKey.Equal(pub) {
			t.Fatalf("owner %q", owner)
		}
		reqs := s.requests()[before:]
		if len(reqs) != 2 || reqs[1].path != "/users/alice" || reqs[1].sigErr != nil {
			t.Fatalf("expected a signed fetch of the stub then the owner, got %+v", reqs)
		}
	})

	t.Run("stub whose owner does not list the key", func(t *testing.T) {
		victim := s.base + "/users/victim"
		keyID := s.base + "/users/mallory/main-key"
		s.doc("/users/mallory/main-key", `{"id":"`+keyID+`","publicKey":{"id":"`+keyID+`","owner":"`+victim+`","publicKeyPem":`+strconv.Quote(appPEM)+`}}`)
		s.doc("/users/victim", actorJSON(victim, victim+"/main-key", victim, remotePEM))
		if _, _, err := resolve(ctx, keyID); !errors.Is(err, ErrKeyNotClaimed) {
			t.Fatalf("got %v, want ErrKeyNotClaimed", err)
		}
	})

	t.Run("standalone key document", func(t *testing.T) {
		actor := s.base + "/users/bob"
		keyID := s.base + "/keys/bob"
		s.doc("/keys/bob", `{"id":"`+keyID+`","owner":"`+actor+`","publicKeyPem":`+strconv.Quote(remotePEM)+`}`)
		s.doc("/users/bob", actorJSON(actor, keyID, actor, remotePEM))
		if _, owner, err := resolve(ctx, keyID); err != nil || owner != actor {
			t.Fatalf("owner %q err %v", owner, err)
		}
		// A key document naming an owner that lists another key is refused.
		s.doc("/keys/claims-carol", `{"id":"`+s.base+`/keys/claims-carol","owner":"`+s.base+`/users/carol","publicKeyPem":`+strconv.Quote(appPEM)+`}`)
		s.doc("/users/carol", actorJSON(s.base+"/users/carol", s.base+"/users/carol#main-key", s.base+"/users/carol", remotePEM))
		if _, _, err := resolve(ctx, s.base+"/keys/claims-carol"); !errors.Is(err, ErrKeyNotClaimed) {
			t.Fatalf("got %v, want ErrKeyNotClaimed", err)
		}
	})

	t.Run("fragment key whose document claims another id", func(t *testing.T) {
		s.doc("/users/liar", actorJSON(s.base+"/users/someone-else", s.base+"/users/liar#main-key", s.base+"/users/liar", remotePEM))
		if _, _, err := resolve(ctx, s.base+"/users/liar#main-key"); !errors.Is(err, ErrIDMismatch) {
			t.Fatalf("got %v, want ErrIDMismatch", err)
		}
	})

	t.Run("weak key", func(t *testing.T) {
		actor := s.base + "/users/weak"
		s.doc("/users/weak", actorJSON(actor, actor+"#main-key", actor, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
		if _, _, err := resolve(ctx, actor+"#main-key"); err == nil {
			t.Fatal("accepted a broken key")
		}
	})

	t.Run("keyId on a loopback address is refused", func(t *testing.T) {
		direct := KeyFetcher(newFetcher(Guard{}))
		if _, _, err := direct(ctx, s.URL+"/users/masto#main-key"); !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("got %v, want ErrForbiddenAddress", err)
		}
	})
}

// TestInboxVerifiesGoToSocialDelivery wires the pieces the way an inbox
// does: a POST signed for a GoToSocial-style keyId (no fragment, served as
// an actor stub) is verified through KeyCache + KeyFetcher,
// which dereferences the stub and its owner over HTTP.
func TestInboxVerifiesGoToSocialDelivery(t *testing.T) {
	remote := newAPServer(t, "gts-remote")
	actor := remote.base + "/users/alice"
	keyID := actor + "/main-key"
	remote.doc("/users/alice/main-key", `{"id":"`+keyID+`","publicKey":{"id":"`+keyID+`","owner":"`+actor+`","publicKeyPem":`+strconv.Quote(remotePEM)+`}}`)
	remote.doc("/users/alice", actorJSON(actor, keyID, actor, remotePEM))

	cache := httpsig.NewKeyCache(KeyFetcher(newFetcher(Guard{DevLocalhost: true})), 100, time.Hour)
	type out struct {
		v   httpsig.Verified
		err error
	}
	results := make(chan out, 2)
	inbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, err := httpsig.Verify(r.Context(), r, body, cache, httpsig.Options{})
		results <- out{v, err}
	}))
	defer inbox.Close()

	body := []byte(`{"id":"` + actor + `/statuses/1/activity","type":"Create","actor":"` + actor + `"}`)
	send := func(key *rsa.PrivateKey) out {
		req, _ := http.NewRequest(http.MethodPost, inbox.URL+"/inbox", bytes.NewReader(body))
		if err := httpsig.Sign(req, body, keyID, key); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return <-results
	}
	if o := send(remoteKey); o.err != nil || o.v.Owner != actor || o.v.KeyID != keyID {
		t.Fatalf("genuine delivery: %+v", o)
	}
	// Someone else's key under alice's keyId must fail, even after the
	// refresh Verify performs.
	if o := send(appKey); !errors.Is(o.err, httpsig.ErrBadSignature) {
		t.Fatalf("forged delivery: %+v", o)
	}
}
