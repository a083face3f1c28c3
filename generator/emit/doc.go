package emit

import (
	"html"
	"strings"
)

// API descriptions are written in CommonMark, often with HTML mixed in
// (Stripe's are HTML throughout). Go doc comments have their own small
// syntax: paragraphs, "  - " lists, tab-indented code blocks, and links as
// [Text] with a "[Text]: URL" definition. docSyntax rewrites a description
// into that syntax so that go doc and editors show it as the API meant it,
// instead of `<p>Creates a customer.</p>`.

// htmlTag is one tag found by nextTag.
type htmlTag struct {
	start, end int // s[start:end] is the whole tag
	closing    bool
	name       string // lower case
	attrs      string
}

// nextTag finds the first HTML tag in s at or after from: "<", an optional
// "/", a letter, then anything up to ">".
func nextTag(s string, from int) (htmlTag, bool) {
	for i := from; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		j := i + 1
		closing := j < len(s) && s[j] == '/'
		if closing {
			j++
		}
		k := j
		for k < len(s) && isAlnum(s[k]) {
			k++
		}
		if k == j || !isLetter(s[j]) {
			continue
		}
		end := strings.IndexByte(s[k:], '>')
		if end < 0 {
			return htmlTag{}, false
		}
		if k < len(s) && s[k] != '>' && s[k] != ' ' && s[k] != '/' && s[k] != '\t' && s[k] != '\n' {
			continue
		}
		return htmlTag{start: i, end: k + end + 1, closing: closing, name: strings.ToLower(s[j:k]), attrs: s[k : k+end]}, true
	}
	return htmlTag{}, false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || c >= '0' && c <= '9' }

// hasHTML reports whether s holds one of the HTML tags descriptions use.
func hasHTML(s string) bool {
	for at := 0; ; {
		t, ok := nextTag(s, at)
		if !ok {
			return false
		}
		switch t.name {
		case "p", "br", "ul", "ol", "li", "a", "code", "pre", "b", "strong", "em", "i",
			"h1", "h2", "h3", "h4", "h5", "h6", "div", "span", "table", "tr", "td", "th":
			return true
		}
		at = t.end
	}
}

// hrefOf returns the href attribute's value.
func hrefOf(attrs string) string {
	lower := strings.ToLower(attrs)
	i := strings.Index(lower, "href")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(attrs[i+4:], " \t\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\n")
	if rest == "" {
		return ""
	}
	if q := rest[0]; q == '"' || q == '\'' {
		if end := strings.IndexByte(rest[1:], q); end >= 0 {
			return rest[1 : 1+end]
		}
		return ""
	}
	if end := strings.IndexAny(rest, " \t\n"); end >= 0 {
		return rest[:end]
	}
	return rest
}

// listMarker returns the length of a list item's marker ("- ", "* ", "1. "
// with the indentation before it) at the start of line, or 0.
func listMarker(line string) (n int, marker string) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	j := i
	switch {
	case strings.HasPrefix(line[i:], "•"):
		j += len("•")
	case j < len(line) && (line[j] == '-' || line[j] == '*' || line[j] == '+'):
		j++
	default:
		for j < len(line) && j-i < 3 && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		if j == i || j >= len(line) || line[j] != '.' && line[j] != ')' {
			return 0, ""
		}
		j++
	}
	if j >= len(line) || line[j] != ' ' && line[j] != '\t' {
		return 0, ""
	}
	marker = line[i:j]
	for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
		j++
	}
	return j, marker
}

// heading returns the text of a Markdown ATX heading line ("## Title").
func heading(line string) (string, bool) {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return "", false
	}
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n >= len(t) || t[n] != ' ' {
		return "", false
	}
	h := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(t[n:]), "#"))
	return h, h != ""
}

// docSyntax converts a Markdown/HTML description to Go doc comment text.
// It is conservative: text without markup passes through with only its
// line structure normalised.
func docSyntax(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	links := &linkDefs{}
	if hasHTML(s) {
		s = htmlToText(s, links)
	}
	s = markdownToText(s, links)
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return links.appendTo(s)
}

// linkDefs collects link targets; each link text is defined once.
type linkDefs struct {
	order []string
	urls  map[string]string
}

// ref returns the doc-comment spelling of a link: [text] with a definition
// added, or "text (url)" when the text cannot be a link label.
func (d *linkDefs) ref(text, url string) string {
	text = strings.Join(strings.Fields(text), " ")
	url = strings.TrimSpace(url)
	switch {
	case url == "" || strings.HasPrefix(url, "#"):
		return text
	case text == "" || text == url:
		return url // a bare URL is a link in doc comments already
	case strings.ContainsAny(text, "[]") || !strings.Contains(url, "://"):
		return text + " (" + url + ")"
	}
	if d.urls == nil {
		d.urls = map[string]string{}
	}
	if old, ok := d.urls[text]; ok && old != url {
		return text + " (" + url + ")"
	} else if !ok {
		d.urls[text] = url
		d.order = append(d.order, text)
	}
	return "[" + text + "]"
}

func (d *linkDefs) appendTo(s string) string {
	if len(d.order) == 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(s, "\n "))
	b.WriteString("\n\n")
	for _, t := range d.order {
		b.WriteString("[" + t + "]: " + d.urls[t] + "\n")
	}
	return b.String()
}

// htmlToText rewrites the common HTML of API descriptions: paragraphs,
// line breaks, lists, links, preformatted blocks and inline emphasis; other
// tags are dropped and entities decoded.
func htmlToText(s string, links *linkDefs) string {
	var b strings.Builder
	pre := 0
	var href []string // open <a> targets
	var anchorStart []int
	last := 0
	for {
		tg, ok := nextTag(s, last)
		if !ok {
			break
		}
		text := s[last:tg.start]
		if pre == 0 {
			text = leadSpace(text) + strings.Join(strings.Fields(text), " ") + edgeSpace(text)
			if strings.HasSuffix(b.String(), "\n") || b.Len() == 0 {
				text = strings.TrimLeft(text, " ")
			}
		}
		b.WriteString(html.UnescapeString(text))
		last = tg.end
		closing, tag, attrs := tg.closing, tg.name, tg.attrs
		switch tag {
		case "p", "div", "table", "h1", "h2", "h3", "h4", "h5", "h6":
			b.WriteString("\n\n")
		case "br", "tr":
			b.WriteString("\n")
		case "ul", "ol":
			b.WriteString("\n\n")
		case "li":
			if !closing {
				b.WriteString("\n- ")
			}
		case "pre":
			if closing {
				pre = max(0, pre-1)
				b.WriteString("\n```\n\n")
			} else {
				pre++
				b.WriteString("\n\n```\n")
			}
		case "td", "th":
			if !closing {
				b.WriteString(" ")
			}
		case "a":
			if !closing {
				url := html.UnescapeString(hrefOf(attrs))
				href = append(href, url)
				anchorStart = append(anchorStart, b.Len())
			} else if n := len(href); n > 0 {
				cur := b.String()
				start := anchorStart[n-1]
				label := cur[start:]
				b.Reset()
				b.WriteString(cur[:start])
				b.WriteString(links.ref(label, href[n-1]))
				href, anchorStart = href[:n-1], anchorStart[:n-1]
			}
		}
	}
	tail := s[last:]
	if pre == 0 {
		tail = leadSpace(tail) + strings.Join(strings.Fields(tail), " ")
	}
	b.WriteString(html.UnescapeString(tail))
	return b.String()
}

// leadSpace keeps one leading space when the text between two tags starts
// with white space and holds a word.
func leadSpace(text string) string {
	if strings.TrimSpace(text) != "" && strings.TrimLeft(text, " \t\n") != text {
		return " "
	}
	return ""
}

// edgeSpace keeps one trailing space when the text ended with white space,
// so that words on either side of a tag stay apart.
func edgeSpace(text string) string {
	if strings.TrimSpace(text) == "" {
		if text != "" {
			return " "
		}
		return ""
	}
	if strings.TrimRight(text, " \t\n") != text {
		return " "
	}
	return ""
}

// markdownToText rewrites Markdown blocks line by line: fenced code
// becomes a tab-indented block, headings Go doc headings, list items
// "  - " items (continuation lines indented under them), links [Text]
// references, and an indented line continuing a paragraph (no blank line
// before it) is joined to the paragraph rather than read as code.
func markdownToText(s string, links *linkDefs) string {
	lines := strings.Split(s, "\n")
	var out []string
	fence := ""
	prev := "blank" // blank, para, list, code
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
				out = append(out, "")
				prev = "blank"
				continue
			}
			out = append(out, "\t"+strings.TrimRight(line, " \t"))
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			if prev != "blank" {
				out = append(out, "")
			}
			prev = "code"
			continue
		}
		if trimmed == "" {
			out = append(out, "")
			prev = "blank"
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		switch {
		case isListItem(line):
			n, marker := listMarker(line)
			item := line[n:]
			if marker == "*" || marker == "+" || marker == "•" {
				marker = "-"
			}
			if prev != "list" && prev != "blank" {
				out = append(out, "")
			}
			out = append(out, "  "+marker+" "+inlineMD(item, links))
			prev = "list"
		case prev == "list" && indent > 0:
			out = append(out, "    "+inlineMD(trimmed, links))
		case prev == "blank" && indent >= 4 || prev == "code" && indent > 0:
			out = append(out, "\t"+strings.TrimRight(line, " \t"))
			prev = "code"
		case isHeading(line) && prev == "blank":
			h, _ := heading(line)
			out = append(out, "# "+inlineMD(h, links), "")
			prev = "blank"
		default:
			if prev == "list" || prev == "code" {
				out = append(out, "")
			}
			out = append(out, inlineMD(trimmed, links))
			prev = "para"
		}
	}
	return strings.Join(out, "\n")
}

func isListItem(line string) bool { n, _ := listMarker(line); return n > 0 }
func isHeading(line string) bool  { _, ok := heading(line); return ok }

// inlineMD rewrites inline Markdown: links [text](url) and **bold**.
// Inline code keeps its backquotes, which read well in plain text.
func inlineMD(s string, links *linkDefs) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '[' {
			if text, url, n, ok := mdLink(s[i:]); ok {
				b.WriteString(links.ref(text, url))
				i += n
				continue
			}
		}
		if strings.HasPrefix(s[i:], "**") {
			if end := strings.Index(s[i+2:], "**"); end > 0 && !strings.ContainsAny(s[i+2:i+2+end], "*\n") {
				b.WriteString(s[i+2 : i+2+end])
				i += end + 4
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// mdLink parses "[text](url)" or "[text](url "title")" at the start of s.
func mdLink(s string) (text, url string, n int, ok bool) {
	close := strings.IndexByte(s, ']')
	if close < 2 || strings.ContainsAny(s[1:close], "[\n") || close+1 >= len(s) || s[close+1] != '(' {
		return "", "", 0, false
	}
	end := strings.IndexByte(s[close+2:], ')')
	if end < 0 {
		return "", "", 0, false
	}
	inner := strings.TrimSpace(s[close+2 : close+2+end])
	if sp := strings.IndexAny(inner, " \t"); sp >= 0 {
		title := strings.TrimSpace(inner[sp:])
		if !strings.HasPrefix(title, "\"") || !strings.HasSuffix(title, "\"") {
			return "", "", 0, false
		}
		inner = inner[:sp]
	}
	if inner == "" || strings.ContainsAny(inner, "()") {
		return "", "", 0, false
	}
	return s[1:close], inner, close + 2 + end + 1, true
}
