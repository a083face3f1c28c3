package auth

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/secret"
)

func TestSetRedactKnownValues(t *testing.T) {
	o, err := RefreshToken(OAuthConfig{TokenURL: "https://login.example.com/token", ClientID: "id",
		ClientSecret: secret.New("client-secret-1"), RefreshToken: secret.New("refresh-tok-1"),
		Token: &oauth2.Token{AccessToken: "access-tok-1", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	o.SetToken(&oauth2.Token{AccessToken: "access-tok-2", TokenType: "Bearer", RefreshToken: "refresh-tok-2", Expiry: time.Now().Add(time.Hour)})
	set, err := NewSet("https://api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	set.Add("h", APIKeyHeader("X-Key", secret.New("header-key-1"))).
		Add("q", APIKeyQuery("key", secret.New("query key/1"))).
		Add("c", APIKeyCookie("sid", secret.New("cookie-key-1"))).
		Add("b", Basic("user", secret.New("basic-pw-1"))).
		Add("t", Bearer(secret.New("bearer-tok-1"))).
		Add("o", o).
		Add("short", APIKeyHeader("X-Short", secret.New("abc")))
	basic := base64.StdEncoding.EncodeToString([]byte("user:basic-pw-1"))
	for _, v := range []string{"header-key-1", "query key/1", "query+key%2F1", "query%20key%2F1", "sid=cookie-key-1", "cookie-key-1",
		"basic-pw-1", basic, "Basic " + basic, "bearer-tok-1", "Bearer bearer-tok-1", "client-secret-1", "refresh-tok-1",
		"refresh-tok-2", "access-tok-1", "access-tok-2", "Bearer access-tok-2"} {
		in := fmt.Sprintf(`{"message":"rejected %s (abc)"}`, v)
		got := string(set.Redact([]byte(in)))
		if got != `{"message":"rejected [REDACTED] (abc)"}` {
			t.Errorf("%q → %s", v, got)
		}
	}
	// Nothing to redact: the same slice comes back, not a copy.
	in := []byte("an ordinary abc body")
	if out := set.Redact(in); &out[0] != &in[0] || string(out) != string(in) {
		t.Errorf("unchanged text was copied or altered: %q", out)
	}
	var nilSet *Set
	if string(nilSet.Redact([]byte("header-key-1"))) != "header-key-1" {
		t.Error("nil set")
	}
	// Redaction works while the set is used concurrently.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			o.SetToken(&oauth2.Token{AccessToken: fmt.Sprintf("access-tok-%d", i+3), TokenType: "Bearer"})
		}
	}()
	for i := 0; i < 100; i++ {
		if strings.Contains(string(set.Redact([]byte("x header-key-1 x"))), "header-key-1") {
			t.Fatal("not redacted")
		}
	}
	<-done
}
