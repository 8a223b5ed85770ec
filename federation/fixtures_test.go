package federation_test

import (
	"os"
	"path/filepath"
)

func readFixture(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	return string(b), err
}
