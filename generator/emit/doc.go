package emit

import (
	"html"
	"regexp"
	"strings"
)

// API descriptions are written in CommonMark, often with HTML mixed in
// (Stripe's are HTML throughout). Go doc comments have their own small
// syntax: paragraphs, "  - " lists, tab-indented code blocks, and links as
// [Text] with a "[Text]: URL" definition. docSyntax rewrites a description
// into that syntax so that go doc and editors show it as the API meant it,
// instead of `<p>Creates a customer.</p>`.

var (
	reTag       = regexp.MustCompile(`(?is)<(/?)([a-z][a-z0-9]*)\b([^>]*)>`)
	reHref      = regexp.MustCompile(`(?is)\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))`)
	reMDLink    = regexp.MustCompile(`\[([^\[\]\n]+)\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	reMDBold    = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
	reListItem  = regexp.MustCompile(`^\s*([-*+•]|\d{1,3}[.)])\s+`)
	reHeading   = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
	reHTMLProbe = regexp.MustCompile(`(?i)</?(p|br|ul|ol|li|a|code|pre|b|strong|em|i|h[1-6]|div|span|table|tr|td|th)\b[^>]*>`)
)

// docSyntax converts a Markdown/HTML description to Go doc comment text.
// It is conservative: text without markup passes through with only its
// line structure normalised.
func docSyntax(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	links := &linkDefs{}
	if reHTMLProbe.MatchString(s) {
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
	for _, m := range reTag.FindAllStringSubmatchIndex(s, -1) {
		text := s[last:m[0]]
		if pre == 0 {
			text = leadSpace(text) + strings.Join(strings.Fields(text), " ") + edgeSpace(text)
			if strings.HasSuffix(b.String(), "\n") || b.Len() == 0 {
				text = strings.TrimLeft(text, " ")
			}
		}
		b.WriteString(html.UnescapeString(text))
		last = m[1]
		closing := s[m[2]:m[3]] == "/"
		tag := strings.ToLower(s[m[4]:m[5]])
		attrs := s[m[6]:m[7]]
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
				url := ""
				if h := reHref.FindStringSubmatch(attrs); h != nil {
					url = html.UnescapeString(h[2] + h[3] + h[4])
				}
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
		case reListItem.MatchString(line):
			item := reListItem.ReplaceAllString(line, "")
			marker := strings.TrimSpace(reListItem.FindString(line))
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
		case reHeading.MatchString(line) && prev == "blank":
			h := reHeading.FindStringSubmatch(line)[1]
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

// inlineMD rewrites inline Markdown: links and bold. Inline code keeps its
// backquotes, which read well in plain text.
func inlineMD(s string, links *linkDefs) string {
	s = reMDLink.ReplaceAllStringFunc(s, func(m string) string {
		sm := reMDLink.FindStringSubmatch(m)
		return links.ref(sm[1], sm[2])
	})
	return reMDBold.ReplaceAllString(s, "$1")
}
