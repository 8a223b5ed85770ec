package httpsig

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const sigB64 = "dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaXMgYmFzZTY0IQ=="

func TestParseSignatureHeader(t *testing.T) {
	ok := []struct {
		in   string
		want Params
	}{
		{
			`keyId="https://mastodon.example/users/alice#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="` + sigB64 + `"`,
			Params{KeyID: "https://mastodon.example/users/alice#main-key", Algorithm: "rsa-sha256",
				Headers: []string{"(request-target)", "host", "date", "digest", "content-type"}},
		},
		{
			`keyId="https://gts.example/users/bob/main-key", algorithm="hs2019", headers="(request-target) host date", signature="` + sigB64 + `"`,
			Params{KeyID: "https://gts.example/users/bob/main-key", Algorithm: "hs2019",
				Headers: []string{"(request-target)", "host", "date"}},
		},
		{ // no headers parameter: the draft's default
			`keyId="k",signature="` + sigB64 + `"`,
			Params{KeyID: "k", Headers: []string{"date"}},
		},
		{
			`keyId="k",algorithm=hs2019,created=1700000000,expires=1700000300,signature="` + sigB64 + `"`,
			Params{KeyID: "k", Algorithm: "hs2019", Headers: []string{"(created)"}, Created: 1700000000, Expires: 1700000300},
		},
		{ // unknown parameters are ignored; header names are lower-cased; escapes decoded
			`keyId="a\"b",headers="(Request-Target) Host Date",foo="bar",signature="` + sigB64 + `"`,
			Params{KeyID: `a"b`, Headers: []string{"(request-target)", "host", "date"}},
		},
	}
	for _, tc := range ok {
		got, err := ParseSignatureHeader(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if string(got.Signature) != "this is not a real signature but it is base64!" {
			t.Errorf("%s: signature %q", tc.in, got.Signature)
		}
		got.Signature = nil
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}

	bad := map[string]string{
		"empty":              ``,
		"no keyId":           `signature="` + sigB64 + `"`,
		"empty keyId":        `keyId="",signature="` + sigB64 + `"`,
		"no signature":       `keyId="k",headers="date"`,
		"bad base64":         `keyId="k",signature="@@@@"`,
		"unpadded base64":    `keyId="k",signature="` + strings.TrimRight(sigB64, "=") + `"`,
		"duplicate keyId":    `keyId="k",keyId="j",signature="` + sigB64 + `"`,
		"duplicate any case": `keyId="k",signature="` + sigB64 + `",Signature="` + sigB64 + `"`,
		"trailing comma":     `keyId="k",signature="` + sigB64 + `",`,
		"unterminated":       `keyId="k,signature="` + sigB64,
		"space before =":     `keyId ="k",signature="` + sigB64 + `"`,
		"newline in value":   "keyId=\"k\nx\",signature=\"" + sigB64 + `"`,
		"non-ASCII":          `keyId="kä",signature="` + sigB64 + `"`,
		"empty headers":      `keyId="k",headers="",signature="` + sigB64 + `"`,
		"double space":       `keyId="k",headers="host  date",signature="` + sigB64 + `"`,
		"bad header name":    `keyId="k",headers="host da:te",signature="` + sigB64 + `"`,
		"header twice":       `keyId="k",headers="date host Date",signature="` + sigB64 + `"`,
		"bad created":        `keyId="k",created=-5,signature="` + sigB64 + `"`,
		"huge created":       `keyId="k",created=99999999999999999999,signature="` + sigB64 + `"`,
		"too long":           `keyId="` + strings.Repeat("a", MaxHeaderLen) + `",signature="` + sigB64 + `"`,
		"signature too long": `keyId="k",signature="` + strings.Repeat("AAAA", 400) + `"`,
		"too many params":    strings.Repeat(`x="y",`, 20) + `keyId="k",signature="` + sigB64 + `"`,
	}
	for name, in := range bad {
		if p, err := ParseSignatureHeader(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %+v, %v; want ErrMalformed", name, p, err)
		}
	}
}

// FuzzParseSignatureHeader checks that the parser never panics and that
// whatever it accepts survives a format/parse round trip unchanged.
func FuzzParseSignatureHeader(f *testing.F) {
	f.Add(`keyId="https://mastodon.example/users/alice#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="` + sigB64 + `"`)
	f.Add(`keyId="https://gts.example/users/bob/main-key",algorithm="hs2019",headers="(request-target) host date",signature="` + sigB64 + `"`)
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParseSignatureHeader(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if p.KeyID == "" || len(p.Signature) == 0 || len(p.Headers) == 0 {
			t.Fatalf("accepted incomplete params %+v", p)
		}
		again, err := ParseSignatureHeader(p.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", p.String(), err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip changed params:\n%+v\n%+v", p, again)
		}
	})
}

func TestParsePublicKeyPEM(t *testing.T) {
	a, _ := testKeys(t)
	pkix, err := PublicKeyPEM(&a.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&a.PublicKey)}))
	for name, in := range map[string]string{"PKIX": pkix, "PKCS1": pkcs1, "PKIX with surrounding text": "\n" + pkix + "\n"} {
		got, err := ParsePublicKeyPEM(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Equal(&a.PublicKey) {
			t.Fatalf("%s: wrong key", name)
		}
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM, _ := PublicKeyPEM(&small.PublicKey)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}))
	garbage := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: bytes.Repeat([]byte{1}, 64)}))
	for name, in := range map[string]string{"1024-bit": smallPEM, "EC": ecPEM, "garbage DER": garbage, "no PEM": "hello"} {
		if _, err := ParsePublicKeyPEM(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
