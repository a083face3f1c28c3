package syncutil

import "strings"

// Prepend returns first followed by the items of xs, each value once:
// the constants a mapping puts before a list source's items (Jira labels
// "freshdesk" and then the ticket's tags). Lists such as labels are sets,
// so an item already present is not repeated.
func Prepend[T comparable](xs []T, first ...T) []T {
	out := make([]T, 0, len(first)+len(xs))
	seen := make(map[T]bool, len(first)+len(xs))
	for _, group := range [][]T{first, xs} {
		for _, x := range group {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}

// FindFilter builds the value a find operation takes from a natural key:
// every "{key}" in filter is replaced by key with backslashes and double
// quotes escaped by a backslash, so the key stays one double-quoted string
// literal (a JQL search: cf[10050] = "{key}").
func FindFilter(filter, key string) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key)
	return strings.ReplaceAll(filter, "{key}", esc)
}
