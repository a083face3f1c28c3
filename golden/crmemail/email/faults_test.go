package email_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/email"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// Fault injection through the generated Postbox client. addMember is a POST
// that accepts an Idempotency-Key header parameter: with a key it is retried
// (with the same key), without one it is never sent twice.

func addMemberFaults() []struct {
	name  string
	steps []step
} {
	return []struct {
		name  string
		steps []step
	}{
		{"503", []step{status(503), ok(memberJSON)}},
		{"429 with Retry-After", []step{status(429, "Retry-After", "0"), ok(memberJSON)}},
		{"connection reset", []step{reset, ok(memberJSON)}},
		{"slower than the attempt timeout", []step{slow(time.Second, ok(memberJSON)), ok(memberJSON)}},
	}
}

func TestAddMemberWithIdempotencyKeyIsRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	r := quick()
	r.AttemptTimeout = 100 * time.Millisecond
	for _, tt := range addMemberFaults() {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAPI(t, tt.steps...)
			c := newEmail(t, a, rest.WithRetry(r))
			m, err := addMember(c, "6f1c9a52-4a4e-4a0e-9a43-0d8f1b7e2c11")
			if err != nil {
				t.Fatal(err)
			}
			if m.EmailAddress != "grace.hopper@navalsystems.example" || m.Status != email.MemberStatusSubscribed || m.Version != 3 {
				t.Fatalf("member %+v", m)
			}
			if a.count() != 2 {
				t.Fatalf("%d requests, want 2", a.count())
			}
			first, second := a.hit(0), a.hit(1)
			if k := first.header.Get("Idempotency-Key"); k != "6f1c9a52-4a4e-4a0e-9a43-0d8f1b7e2c11" || second.header.Get("Idempotency-Key") != k {
				t.Fatalf("keys %q then %q", k, second.header.Get("Idempotency-Key"))
			}
			if !bytes.Equal(first.body, second.body) || len(first.body) == 0 || second.method != http.MethodPost {
				t.Fatalf("bodies %q then %q", first.body, second.body)
			}
			if second.header.Get("X-Api-Key") != "test-key" {
				t.Fatal("the retry lost the API key")
			}
		})
	}
}

func TestAddMemberWithoutIdempotencyKeyIsNeverResent(t *testing.T) {
	t.Parallel()
	r := quick()
	r.AttemptTimeout = 100 * time.Millisecond
	for _, tt := range addMemberFaults() {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAPI(t, tt.steps...)
			c := newEmail(t, a, rest.WithRetry(r))
			if _, err := addMember(c, ""); err == nil {
				t.Fatal("want the first failure")
			}
			time.Sleep(50 * time.Millisecond) // a resend would arrive by now
			if a.count() != 1 {
				t.Fatalf("addMember without a key was sent %d times", a.count())
			}
			if a.hit(0).header.Get("Idempotency-Key") != "" {
				t.Fatal("no key was given")
			}
		})
	}
}

// TestRetryAfterHTTPDate: Retry-After as an HTTP-date (whole seconds) is
// honoured: the retry comes when the date says, within 10%. Wall-clock
// measurements suffer when the machine is overloaded, so a measurement out
// of band is repeated (up to three times); a retry that comes early fails at
// once.
func TestRetryAfterHTTPDate(t *testing.T) {
	for try := 1; ; try++ {
		gap, want := retryAfterDateGap(t)
		if gap < want*9/10 {
			t.Fatalf("the retry came %v after the 429, before the date (%v away)", gap, want)
		}
		if within(gap, want, 10) {
			return
		}
		if try == 3 {
			t.Fatalf("the retry came %v after the 429, the date asked for %v (±10%%)", gap, want)
		}
		t.Logf("try %d: the retry came %v after the 429, the date asked for %v; measuring again", try, gap, want)
	}
}

// retryAfterDateGap answers 429 with an HTTP-date between 1 s and 2 s
// ahead and returns the time between the 429 and the retry, and the wait
// the date asked for.
func retryAfterDateGap(t *testing.T) (gap, want time.Duration) {
	var asked atomic.Int64
	var answered atomic.Int64
	dated := func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		at := now.Add(time.Second).Truncate(time.Second) // HTTP-dates have one-second resolution
		if at.Before(now.Add(time.Second)) {
			at = at.Add(time.Second)
		}
		asked.Store(int64(at.Sub(now))) // between 1 s and 2 s
		status(429, "Retry-After", at.UTC().Format(http.TimeFormat))(w, r)
		answered.Store(time.Now().UnixNano())
	}
	var retried atomic.Int64
	a := newFakeAPI(t, dated, func(w http.ResponseWriter, r *http.Request) {
		retried.Store(time.Now().UnixNano())
		ok(memberJSON)(w, r)
	})
	c := newEmail(t, a, rest.WithRetry(quick()))
	if _, err := getMember(c, context.Background()); err != nil {
		t.Fatal(err)
	}
	return time.Duration(retried.Load() - answered.Load()), time.Duration(asked.Load())
}

func TestBurstOf503WithProblemDetails(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, status(503))
	c := newEmail(t, a, rest.WithRetry(quick()))
	_, err := getMember(c, context.Background())
	var apiErr *rest.Error
	if !errors.As(err, &apiErr) || apiErr.Attempts != 4 || a.count() != 4 || !errors.Is(err, transport.ErrServer) {
		t.Fatalf("%v (%d requests)", err, a.count())
	}
	if p, ok := apiErr.Model.(*email.APIError); !ok || p.Status != 503 || p.Title != "Service Unavailable" {
		t.Fatalf("model %#v", apiErr.Model)
	}
	// Recovery within the budget.
	a = newFakeAPI(t, status(503), status(502), ok(memberJSON))
	c = newEmail(t, a, rest.WithRetry(quick()))
	if _, err := getMember(c, context.Background()); err != nil || a.count() != 3 {
		t.Fatalf("%v (%d requests)", err, a.count())
	}
}

func TestMalformedJSONIsNotRetried(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, ok(`{"id":"fe28","email_address":42}`))
	c := newEmail(t, a, rest.WithRetry(quick()))
	_, err := getMember(c, context.Background())
	var de *rest.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, transport.ErrValidation) || de.Operation != "getMember" || a.count() != 1 {
		t.Fatalf("%T %v (%d requests)", err, err, a.count())
	}
	// The same for a POST carrying an idempotency key.
	a = newFakeAPI(t, ok(`{"email_address":`))
	c = newEmail(t, a, rest.WithRetry(quick()))
	if _, err := addMember(c, "k1"); !errors.As(err, &de) || a.count() != 1 {
		t.Fatalf("%v (%d requests)", err, a.count())
	}
}

// TestPingNeedsNoKey: an operation without security requirements is sent
// without credentials even though the client has an API key.
func TestPingNeedsNoKey(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, ok(`{"health_status":"Everything's Chimpy!"}`))
	c := newEmail(t, a)
	if _, err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.hit(0).header.Get("X-Api-Key") != "" {
		t.Fatal("ping carried the API key")
	}
}
