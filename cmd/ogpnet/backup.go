package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	_ "modernc.org/sqlite" // the SQLite FerretDB uses: same library, same locks

	"github.com/ogpnet/ogpnet/internal/store"
	"github.com/ogpnet/ogpnet/internal/store/migrate"
)

// backupFormat names the archive layout; restore refuses any other.
const backupFormat = "ogpnet-backup/1"

const manifestName = "manifest.json"

// secretNotice is printed by backup and written into the manifest: the
// archive is the server's identity.
const secretNotice = "This archive holds the servers' private signing keys, hashed API tokens and sessions: " +
	"anyone who has it can act as these servers. Keep it as a secret: mode 0600, encrypted at rest, off the server."

// manifest describes a backup archive; it is the archive's first entry.
type manifest struct {
	Format        string    `json:"format"`
	OgpnetVersion string    `json:"ogpnetVersion"`
	Commit        string    `json:"commit,omitempty"`
	Created       time.Time `json:"created"`
	Source        string    `json:"source"` // the data folder backed up
	// SchemaVersion is the newest data layout among the databases: restore
	// refuses an archive newer than the binary restoring it.
	SchemaVersion int          `json:"schemaVersion"`
	Databases     []backupDB   `json:"databases"`
	Files         []backupFile `json:"files"`
	Secret        string       `json:"secret"`
}

type backupDB struct {
	Name          string           `json:"name"`
	File          string           `json:"file"`
	SchemaVersion int              `json:"schemaVersion"`
	Collections   map[string]int64 `json:"collections"` // documents per collection
}

type backupFile struct {
	Path   string `json:"path"` // slash-separated, relative to the data folder
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// runBackup archives a data folder while its server runs: every SQLite
// file of the embedded store through SQLite's own VACUUM INTO (a
// consistent snapshot, read inside one transaction; the live files are
// never copied byte by byte), and the folder's other files as they are.
func runBackup(ctx context.Context, args []string) error { return backupCmd(ctx, os.Stdout, args) }

func backupCmd(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := fs.String("data", "./data/node", "the server's data folder (embedded store)")
	out := fs.String("out", "", "archive to write (.tar.gz); must not exist (required)")
	mongoURI := fs.String("mongo-uri", "", "set when the server uses MongoDB: refused, use mongodump (docs/operations.md)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *mongoURI != "" {
		return usagef("--mongo-uri: with MongoDB, back up with mongodump --uri … --oplog (see docs/operations.md, \"Backup and restore\"); ogpnet backup archives the embedded store")
	}
	if *out == "" {
		return usagef("--out: required (the archive to write)")
	}
	m, err := backup(ctx, *data, *out, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(w, "wrote %s (%d bytes, mode 0600): %d database(s), data schema version %d, %d file(s)\n",
		*out, st.Size(), len(m.Databases), m.SchemaVersion, len(m.Files))
	for _, d := range m.Databases {
		fmt.Fprintf(w, "  %s (schema %d): %d collections\n", d.Name, d.SchemaVersion, len(d.Collections))
	}
	fmt.Fprintln(w, "SECRET: "+secretNotice)
	return nil
}

func backup(ctx context.Context, data, out string, log *slog.Logger) (manifest, error) {
	m := manifest{Format: backupFormat, OgpnetVersion: version, Created: time.Now().UTC(), Secret: secretNotice}
	m.Commit = readBuildInfo().Commit
	abs, err := filepath.Abs(data)
	if err != nil {
		return m, err
	}
	m.Source = abs
	dbFiles, _ := filepath.Glob(filepath.Join(data, "db", "*.sqlite"))
	if len(dbFiles) == 0 {
		return m, fmt.Errorf("backup: no embedded store in %s (no %s); with MongoDB, back up with mongodump (docs/operations.md, \"Backup and restore\")",
			data, filepath.Join(data, "db", "*.sqlite"))
	}
	// Refuse to overwrite, before any work.
	if _, err := os.Lstat(out); err == nil {
		return m, fmt.Errorf("backup: %s exists; choose a new file name", out)
	}
	tmp, err := os.MkdirTemp("", "ogpnet-backup-") // mode 0700: the snapshots are secrets too
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(tmp)
	if err := os.Mkdir(filepath.Join(tmp, "db"), 0o700); err != nil {
		return m, err
	}
	for _, f := range dbFiles {
		if err := snapshot(ctx, f, filepath.Join(tmp, "db", filepath.Base(f))); err != nil {
			return m, err
		}
	}
	if m.Databases, err = inspect(ctx, tmp, log); err != nil {
		return m, err
	}
	for _, d := range m.Databases {
		m.SchemaVersion = max(m.SchemaVersion, d.SchemaVersion)
	}

	// What goes in: the snapshots, then every other regular file of the data
	// folder (the demo's tokens file, for instance), but not the live store
	// and not the archive itself.
	type source struct{ name, path string }
	var srcs []source
	for _, f := range dbFiles {
		srcs = append(srcs, source{"db/" + filepath.Base(f), filepath.Join(tmp, "db", filepath.Base(f))})
	}
	outAbs, _ := filepath.Abs(out)
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(abs, p)
		if d.IsDir() {
			if rel == "db" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || p == outAbs || p == outAbs+".partial" {
			return nil
		}
		srcs = append(srcs, source{filepath.ToSlash(rel), p})
		return nil
	})
	if err != nil {
		return m, err
	}
	for _, s := range srcs {
		size, sum, err := hashFile(s.path)
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, backupFile{Path: s.name, Size: size, SHA256: sum})
	}

	// Write beside the target and rename, so that no half archive ever
	// carries the final name.
	partial := out + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(partial)
		}
	}()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	raw, _ := json.MarshalIndent(m, "", "  ")
	if err := writeEntry(tw, manifestName, m.Created, int64(len(raw)), strings.NewReader(string(raw))); err != nil {
		return m, err
	}
	for i, s := range srcs {
		r, err := os.Open(s.path)
		if err != nil {
			return m, err
		}
		err = writeEntry(tw, s.name, m.Created, m.Files[i].Size, r)
		r.Close()
		if err != nil {
			return m, fmt.Errorf("backup: %s changed while it was archived (%w); run the backup again", s.name, err)
		}
	}
	if err := errors.Join(tw.Close(), gz.Close(), f.Sync(), f.Close()); err != nil {
		return m, fmt.Errorf("backup: writing %s: %w", partial, err)
	}
	ok = true
	if err := os.Rename(partial, out); err != nil {
		os.Remove(partial)
		return m, err
	}
	return m, nil
}

// snapshot writes a consistent copy of a live SQLite database: VACUUM INTO
// reads the source inside one read transaction (the server keeps writing
// in WAL mode meanwhile) and writes a new, compact database file.
func snapshot(ctx context.Context, src, dst string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+abs+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("backup: snapshot of %s: %w", src, err)
	}
	return os.Chmod(dst, 0o600)
}

// inspect opens the snapshots with the embedded store, read only in
// effect: it proves they are readable and reports each database's schema
// version and documents per collection for the manifest.
func inspect(ctx context.Context, dir string, log *slog.Logger) ([]backupDB, error) {
	st, err := store.Open(ctx, store.Options{DataDir: dir, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("backup: reading the snapshot: %w", err)
	}
	defer closeStore(st)
	names, err := st.Client.ListDatabaseNames(ctx, bson.M{})
	if err != nil {
		return nil, err
	}
	var out []backupDB
	for _, n := range names {
		db := st.DB(n)
		s, _, err := migrate.Read(ctx, db)
		if err != nil {
			return nil, err
		}
		colls, err := db.ListCollectionNames(ctx, bson.M{})
		if err != nil {
			return nil, err
		}
		d := backupDB{Name: n, File: "db/" + n + ".sqlite", SchemaVersion: s.Version, Collections: map[string]int64{}}
		for _, c := range colls {
			if d.Collections[c], err = db.Collection(c).CountDocuments(ctx, bson.M{}); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b backupDB) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func writeEntry(tw *tar.Writer, name string, mod time.Time, size int64, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: mod, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	n, err := io.Copy(tw, io.LimitReader(r, size))
	if err == nil && n != size {
		err = fmt.Errorf("%d bytes instead of %d", n, size)
	}
	return err
}

func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// runRestore unpacks a backup into an empty data folder, checking every
// file against the manifest; on any failure it removes what it wrote.
func runRestore(ctx context.Context, args []string) error { return restoreCmd(ctx, os.Stdout, args) }

func restoreCmd(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	in := fs.String("in", "", "backup archive written by ogpnet backup (required)")
	data := fs.String("data", "", "data folder to restore into; must be empty or absent (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *in == "":
		return usagef("--in: required (the archive written by ogpnet backup)")
	case *data == "":
		return usagef("--data: required (an empty or absent folder to restore into)")
	}
	m, err := restore(*in, *data)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "restored %d file(s) into %s from the backup of %s taken %s by ogpnet %s (data schema version %d)\n",
		len(m.Files), *data, m.Source, m.Created.Format(time.RFC3339), m.OgpnetVersion, m.SchemaVersion)
	for _, d := range m.Databases {
		fmt.Fprintf(w, "  %s: %d collections\n", d.Name, len(d.Collections))
	}
	fmt.Fprintln(w, "Start the server on this folder with the same --url (and --name) as before: its identity is its URL and its keys.")
	return ctx.Err()
}

func restore(in, data string) (m manifest, err error) {
	created := false
	switch entries, err := os.ReadDir(data); {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(data, 0o750); err != nil {
			return m, err
		}
		created = true
	case err != nil:
		return m, fmt.Errorf("restore: %w", err)
	case len(entries) > 0:
		return m, fmt.Errorf("restore: %s is not empty (it holds %s): restore only into an empty or new folder, so that no data is overwritten or mixed", data, entries[0].Name())
	}
	defer func() {
		if err == nil {
			return
		}
		// Nothing half-restored: remove what was written.
		if created {
			os.RemoveAll(data)
			return
		}
		entries, _ := os.ReadDir(data)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(data, e.Name()))
		}
	}()
	f, err := os.Open(in)
	if err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return m, fmt.Errorf("restore: %s is not an ogpnet backup (not gzip: %v)", in, err)
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != manifestName {
		return m, fmt.Errorf("restore: %s is not an ogpnet backup (its first entry is not %s)", in, manifestName)
	}
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
		return m, fmt.Errorf("restore: the manifest of %s cannot be read: %w", in, err)
	}
	if m.Format != backupFormat {
		return m, fmt.Errorf("restore: %s has format %q; this binary restores %q", in, m.Format, backupFormat)
	}
	if m.SchemaVersion > migrate.Latest() {
		return m, &migrate.NewerError{DB: "in " + in, DataVersion: m.SchemaVersion, Known: migrate.Latest(), WrittenBy: m.OgpnetVersion}
	}
	want := map[string]backupFile{}
	for _, bf := range m.Files {
		if !local(bf.Path) {
			return m, fmt.Errorf("restore: the manifest names %q, outside the data folder", bf.Path)
		}
		want[bf.Path] = bf
	}
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, fmt.Errorf("restore: %s is damaged: %w", in, err)
		}
		bf, ok := want[hdr.Name]
		if !ok || hdr.Typeflag != tar.TypeReg || seen[hdr.Name] {
			return m, fmt.Errorf("restore: %s holds %q, which its manifest does not list", in, hdr.Name)
		}
		seen[hdr.Name] = true
		if err := extract(tr, filepath.Join(data, filepath.FromSlash(bf.Path)), bf); err != nil {
			return m, fmt.Errorf("restore: %s: %w", bf.Path, err)
		}
	}
	for p := range want {
		if !seen[p] {
			return m, fmt.Errorf("restore: %s lacks %s, which its manifest lists: the archive is incomplete", in, p)
		}
	}
	return m, nil
}

// local reports whether p stays inside the folder it is joined to.
func local(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && !strings.HasPrefix(p, "../") && p != ".." && filepath.IsLocal(filepath.FromSlash(p))
}

func extract(r io.Reader, dst string, bf backupFile) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, bf.Size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != bf.Size || hex.EncodeToString(h.Sum(nil)) != bf.SHA256 {
		return fmt.Errorf("does not match the manifest (size %d, want %d, or checksum differs): the archive is damaged", n, bf.Size)
	}
	return nil
}
