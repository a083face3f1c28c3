package unionnames_test

import (
	"encoding/json"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/unionnames/unionnames"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// Each variant's accessor carries the name that tells it apart: the $ref
// name, a constant tag, the only required property, the title.
func TestVariantNames(t *testing.T) {
	for in, want := range map[string]string{
		`{"login":"octocat"}`:          "User",
		`{"kind":"bot","name":"dep"}`:  "Bot",
		`{"email":"a@b.c","name":"A"}`: "Email",
		`{"reason":"gone"}`:            "Anonymous",
	} {
		var c unionnames.Commit
		if err := json.Unmarshal([]byte(`{"author":`+in+`}`), &c); err != nil {
			t.Fatal(err)
		}
		if got := c.Author.Which(); got != want {
			t.Errorf("%s: Which = %q, want %q", in, got, want)
		}
	}
	var c unionnames.Commit
	json.Unmarshal([]byte(`{"author":{"kind":"bot","name":"dep"},"reset2fa":true}`), &c)
	bot, err := c.Author.AsBot()
	if err != nil || bot.Name != "dep" || !oas.Or(c.Reset2FA, false) {
		t.Errorf("AsBot = %+v, %v; reset2fa %v", bot, err, c.Reset2FA)
	}
}

// A nested type is named without repeating its owner's last word.
var _ = unionnames.Commit{CommitStats: &unionnames.CommitStats{Additions: oas.Some(int64(1))}}
