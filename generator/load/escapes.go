package load

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// fixJSONSurrogates rewrites \uD8xx\uDCxx surrogate-pair escapes inside JSON
// strings as the UTF-8 characters they encode, and lone surrogates as
// U+FFFD. JSON allows surrogate pairs; the YAML parser we read JSON with
// rejects them. Only string contents change, and line numbers are kept.
func fixJSONSurrogates(data []byte) []byte {
	if !looksLikeJSON(data) || !bytes.Contains(bytes.ToLower(data), []byte(`\ud`)) {
		return data
	}
	out := make([]byte, 0, len(data))
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			out = append(out, c)
			continue
		}
		switch c {
		case '"':
			inString = false
			out = append(out, c)
		case '\\':
			if i+1 >= len(data) {
				out = append(out, c)
				continue
			}
			if data[i+1] != 'u' {
				out = append(out, c, data[i+1])
				i++
				continue
			}
			r1, ok := hex4(data, i+2)
			if !ok || !utf16.IsSurrogate(r1) {
				out = append(out, c)
				continue
			}
			if r2, ok2 := hex4(data, i+8); ok2 && i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
				if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
					out = utf8.AppendRune(out, r)
					i += 11
					continue
				}
			}
			out = append(out, `\ufffd`...)
			i += 5
		default:
			out = append(out, c)
		}
	}
	return out
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

func looksLikeJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}
