package httpsig

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// RSA key sizes accepted from remote actors. 2048 bits is the floor every
// fediverse server uses; the ceiling keeps verification cost bounded when
// an attacker chooses the key.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// ParsePublicKeyPEM parses an actor's publicKeyPem: an RSA public key in a
// PKIX ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") block, of 2048 to 8192
// bits. The block label is not trusted; both encodings are tried.
func ParsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("httpsig: no PEM block in public key")
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("httpsig: public key is %T, not RSA", k)
		}
		pub = rk
	} else if k, err2 := x509.ParsePKCS1PublicKey(block.Bytes); err2 == nil {
		pub = k
	} else {
		return nil, fmt.Errorf("httpsig: public key is neither PKIX nor PKCS#1: %v", err)
	}
	if n := pub.N.BitLen(); n < MinRSABits || n > MaxRSABits {
		return nil, fmt.Errorf("httpsig: RSA key of %d bits outside [%d, %d]", n, MinRSABits, MaxRSABits)
	}
	return pub, nil
}

// PublicKeyPEM encodes pub as a PKIX "PUBLIC KEY" PEM block, the form
// Mastodon publishes in publicKey.publicKeyPem.
func PublicKeyPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("httpsig: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
