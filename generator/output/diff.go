package output

import (
	"fmt"
	"strings"
)

// Diff returns a unified diff of a and b (at most maxLines lines of hunks),
// computed with Myers' O(ND) algorithm over lines. It is for showing
// people what changed, not for patching.
func Diff(nameA, nameB string, a, b []byte, maxLines int) string {
	la, lb := splitLines(string(a)), splitLines(string(b))
	ops := myers(la, lb, 2000)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	if ops == nil && (len(la) > 0 || len(lb) > 0) {
		fmt.Fprintf(&out, "(%d lines → %d lines; too different to show a diff)\n", len(la), len(lb))
		return out.String()
	}
	const context = 3
	lines := 0
	// Walk the edit script, emitting hunks around changes.
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-context)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*context || run == len(ops) {
				end = min(len(ops), end+context)
				break
			}
			end = run
		}
		aStart, bStart := ops[start].ai+1, ops[start].bi+1
		aCount, bCount := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				aCount++
			}
			if o.kind != '-' {
				bCount++
			}
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", aStart, aCount, bStart, bCount)
		for _, o := range ops[start:end] {
			if lines >= maxLines {
				out.WriteString("… (diff truncated)\n")
				return out.String()
			}
			out.WriteByte(o.kind)
			out.WriteString(o.text)
			out.WriteByte('\n')
			lines++
		}
		i = end
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type edit struct {
	kind   byte // ' ', '-', '+'
	text   string
	ai, bi int // line indexes (0-based) in a and b at this edit
}

// myers computes a shortest edit script from a to b, or nil when it needs
// more than limit edits (memory grows with the number of edits).
func myers(a, b []string, limit int) []edit {
	n, m := len(a), len(b)
	maxD := min(n+m, limit)
	v := make([]int, 2*maxD+2)
	var trace [][]int
	offset := maxD + 1
	found := false
	for d := 0; d <= maxD && !found; d++ {
		snapshot := make([]int, len(v))
		copy(snapshot, v)
		trace = append(trace, snapshot)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		return nil
	}
	// Backtrack.
	var ops []edit
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		vv := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && vv[offset+k-1] < vv[offset+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := vv[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			ops = append(ops, edit{' ', a[x], x, y})
		}
		if d > 0 {
			if x == prevX {
				y--
				ops = append(ops, edit{'+', b[y], x, y})
			} else {
				x--
				ops = append(ops, edit{'-', a[x], x, y})
			}
		}
	}
	for l, r := 0, len(ops)-1; l < r; l, r = l+1, r-1 {
		ops[l], ops[r] = ops[r], ops[l]
	}
	return ops
}
