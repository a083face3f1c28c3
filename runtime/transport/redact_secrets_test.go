package transport

import (
	"strings"
	"testing"
)

func TestRedactSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"id":"1","access_token":"abc","nested":{"Password":"pw"}}`, `{"id":"1","access_token":"[REDACTED]","nested":{"Password":"[REDACTED]"}}`},
		{`{"id":"ld_42","access_token":"Bearer acc-1","version":`, `{"id":"ld_42","access_token":"[REDACTED]","version":`},
		{`{"message":"token Bearer abc.def-123 rejected"}`, `{"message":"token Bearer [REDACTED] rejected"}`},
		{`{"message":"bad header basic dXNlcjpwdw=="}`, `{"message":"bad header basic [REDACTED]"}`},
		{`{"message":"truncated secret \"Bearer abc`, `{"message":"…`},
		{`{"detail":"request with api_key=k-1 failed","n":1}`, `{"detail":"request with api_key=[REDACTED] failed","n":1}`},
		{`<html>api_key=k123&x=1</html>`, `<html>api_key=[REDACTED]&x=1</html>`},
		{`Authorization: Bearer xyz`, `Authorization: Bearer [REDACTED]`},
		{`a basic fact`, `a basic fact`},
		{`unbearer x`, `unbearer x`},
		{`plain text`, `plain text`},
		{``, ``},
	}
	for _, tt := range tests {
		if got := string(RedactSecrets([]byte(tt.in))); got != tt.want {
			t.Errorf("RedactSecrets(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	in := []byte(`{"token":"t"}`)
	RedactSecrets(in)
	if !strings.Contains(string(in), `"t"`) {
		t.Fatal("the input must not be modified")
	}
}
