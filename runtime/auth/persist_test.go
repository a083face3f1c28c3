package auth

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

type outcomes struct {
	observe.Nop
	mu  sync.Mutex
	got []observe.TokenOutcome
}

func (o *outcomes) ObserveTokenRefresh(e observe.TokenRefresh) {
	o.mu.Lock()
	o.got = append(o.got, e.Outcome)
	o.mu.Unlock()
}

func (o *outcomes) count(k observe.TokenOutcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, g := range o.got {
		if g == k {
			n++
		}
	}
	return n
}

// TestRotatedTokenSaveRetried: the provider rotates the refresh token and
// the first save of the new one fails (state store briefly down). The
// token stays pending and its save is retried until it is stored — a
// restart then resumes with the rotated token instead of the revoked one.
// Every failed save is reported (persist_failed), the late success too
// (persisted).
func TestRotatedTokenSaveRetried(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.rotate = true
	var now atomic.Int64
	now.Store(time.Now().UnixNano()) // oauth2 sets Expiry from the real clock
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	var down atomic.Bool
	down.Store(true)
	saved := make(chan string, 10)
	obs := &outcomes{}
	cred, err := RefreshToken(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		RefreshToken: secret.New("refresh-0"), Now: clock, Observer: obs, System: "crm",
		OnToken: func(_ context.Context, tok *oauth2.Token) error {
			if down.Load() {
				return errors.New("state store down")
			}
			saved <- tok.RefreshToken
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "https://api.example.com/leads", nil)
	if err := cred.Apply(req); err != nil {
		t.Fatal(err)
	}
	if !cred.PendingSave() || obs.count(observe.TokenPersistFailed) != 1 {
		t.Fatalf("pending %v, persist_failed %d", cred.PendingSave(), obs.count(observe.TokenPersistFailed))
	}
	// Still down: the next attempt (after its backoff) fails again and the
	// token stays pending.
	now.Add(int64(2 * time.Second))
	_ = cred.Apply(req)
	waitFor(t, func() bool { return obs.count(observe.TokenPersistFailed) == 2 })
	if !cred.PendingSave() {
		t.Fatal("token dropped after a second failed save")
	}
	// Back up: the rotated token is saved.
	down.Store(false)
	now.Add(int64(time.Minute))
	_ = cred.Apply(req)
	select {
	case rt := <-saved:
		if rt != "refresh-1" {
			t.Fatalf("saved refresh token %q, want the rotated refresh-1", rt)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the rotated token was never saved")
	}
	waitFor(t, func() bool { return !cred.PendingSave() && obs.count(observe.TokenPersisted) == 1 })
	if ts.hits.Load() != 1 {
		t.Fatalf("%d token requests: retrying the save must not refresh again", ts.hits.Load())
	}
}

// TestFlushSavesPendingToken: Flush (at shutdown) saves a pending token
// synchronously and reports when it cannot.
func TestFlushSavesPendingToken(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.rotate = true
	var down atomic.Bool
	down.Store(true)
	var got atomic.Value
	cred, _ := RefreshToken(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		RefreshToken: secret.New("refresh-0"),
		OnToken: func(_ context.Context, tok *oauth2.Token) error {
			if down.Load() {
				return errors.New("state store down")
			}
			got.Store(tok.RefreshToken)
			return nil
		}})
	req, _ := http.NewRequest("GET", "https://api.example.com/leads", nil)
	_ = cred.Apply(req)
	if err := cred.Flush(context.Background()); err == nil {
		t.Fatal("Flush with the store down reported success")
	}
	down.Store(false)
	if err := cred.Flush(context.Background()); err != nil || got.Load() != "refresh-1" || cred.PendingSave() {
		t.Fatalf("Flush: %v, saved %v, pending %v", err, got.Load(), cred.PendingSave())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
