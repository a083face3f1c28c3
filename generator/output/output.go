// Package output is the last stage of the generator pipeline: it compares
// generated files with what is on disk, writes only the files that changed,
// removes stale files that carry the generated-code header, and reports
// what a check would find.
//
// It never touches a file without the header: hand-written files next to
// generated ones (tests, extra methods) are safe. It must not generate
// anything itself.
package output

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// File is one generated file; Path is relative to the output root and uses
// forward slashes.
type File struct {
	Path    string
	Content []byte
}

// Report describes the difference between generated files and the disk.
type Report struct {
	// Missing, Changed and Stale hold root-relative paths, sorted.
	Missing, Changed, Stale []string
	// Unchanged counts files already up to date.
	Unchanged int
	// Diffs holds a short unified diff per changed file.
	Diffs map[string]string
}

// UpToDate reports whether nothing is missing, changed or stale.
func (r *Report) UpToDate() bool {
	return len(r.Missing) == 0 && len(r.Changed) == 0 && len(r.Stale) == 0
}

// String renders the report for people: one line per file, then diffs.
func (r *Report) String() string {
	var b strings.Builder
	for _, p := range r.Missing {
		fmt.Fprintf(&b, "missing: %s\n", p)
	}
	for _, p := range r.Changed {
		fmt.Fprintf(&b, "changed: %s\n", p)
	}
	for _, p := range r.Stale {
		fmt.Fprintf(&b, "stale:   %s (generated, but no longer produced)\n", p)
	}
	for _, p := range r.Changed {
		if d := r.Diffs[p]; d != "" {
			b.WriteString(d)
		}
	}
	return b.String()
}

// IsGenerated reports whether content carries header near its top.
func IsGenerated(content []byte, header string) bool {
	head := content
	if len(head) > 1024 {
		head = head[:1024]
	}
	return bytes.Contains(head, []byte(header))
}

// Compare reports how root differs from files. dirs are the root-relative
// directories the generator owns; a file in one of them that carries header
// but is not in files is stale.
func Compare(root string, files []File, dirs []string, header string) (*Report, error) {
	r := &Report{Diffs: map[string]string{}}
	want := map[string]bool{}
	for _, f := range files {
		want[f.Path] = true
		old, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			r.Missing = append(r.Missing, f.Path)
		case err != nil:
			return nil, err
		case !bytes.Equal(old, f.Content):
			r.Changed = append(r.Changed, f.Path)
			r.Diffs[f.Path] = Diff("a/"+f.Path, "b/"+f.Path, old, f.Content, 40)
		default:
			r.Unchanged++
		}
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || !e.Type().IsRegular() {
				continue
			}
			rel := filepath.ToSlash(filepath.Join(dir, e.Name()))
			if want[rel] {
				continue
			}
			content, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				return nil, err
			}
			if IsGenerated(content, header) {
				r.Stale = append(r.Stale, rel)
			}
		}
	}
	slices.Sort(r.Missing)
	slices.Sort(r.Changed)
	slices.Sort(r.Stale)
	r.Stale = slices.Compact(r.Stale)
	return r, nil
}

// Write brings root in line with files: it writes missing and changed
// files (through a temporary file and rename, so a reader never sees half
// a file) and removes stale generated files. It returns the report of what
// it changed.
func Write(root string, files []File, dirs []string, header string) (*Report, error) {
	r, err := Compare(root, files, dirs, header)
	if err != nil {
		return nil, err
	}
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Content
	}
	for _, p := range append(slices.Clone(r.Missing), r.Changed...) {
		if err := writeAtomic(filepath.Join(root, filepath.FromSlash(p)), byPath[p]); err != nil {
			return nil, err
		}
	}
	for _, p := range r.Stale {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return r, nil
}

func writeAtomic(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Chmod(name, 0o644); err != nil {
		os.Remove(name)
		return err
	}
	return os.Rename(name, path)
}
