package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// ErrUnknownSync is returned for a sync name that was never added.
var ErrUnknownSync = errors.New("engine: unknown sync")

// ErrPaused is returned by RunOnce and ProcessQueue for a paused sync.
var ErrPaused = errors.New("engine: sync paused")

// ErrPollTimeout fails a run whose poll did not read its source to the end
// within WithPollTimeout.
var ErrPollTimeout = errors.New("engine: poll did not finish within its deadline")

// ErrNoDeadLetter is returned by Replay for an unknown dead letter.
var ErrNoDeadLetter = errors.New("engine: no such dead letter")

// StoreSystem is the System of a SystemDownError raised by the state store.
const StoreSystem = "state_store"

// SystemDownError stops a run when a source, a target or the state store is
// unavailable: the engine neither burns per-record attempts nor
// dead-letters records, keeps the cursor before every unwritten record,
// counts a failed run and raises one alert. The next run catches up.
type SystemDownError struct {
	Sync string
	// System is the source's or target's system name, or StoreSystem.
	System string
	// Auth says the credentials were refused (401/403, invalid_grant):
	// retrying will not help until someone re-authorises.
	Auth bool
	// RetryAt, when known, is the earliest time a new attempt makes sense.
	RetryAt time.Time
	Err     error
}

func (e *SystemDownError) Error() string {
	what := "unavailable"
	if e.Auth {
		what = "refused the credentials"
	}
	return fmt.Sprintf("engine: sync %s: %s %s: %v", e.Sync, e.System, what, e.Err)
}

func (e *SystemDownError) Unwrap() error { return e.Err }

// RecordError stops a run whose sync keeps no dead letters when a record
// exhausts its attempts.
type RecordError struct {
	Sync      string
	SourceKey string
	Attempts  int
	Err       error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("engine: sync %s: record %q failed after %d attempts: %v", e.Sync, e.SourceKey, e.Attempts, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// stage says which side a step error came from.
type stage int

const (
	stageSource stage = iota + 1
	stageTarget
	stageStore
)

// stepError tags an error with the stage that raised it.
type stepError struct {
	stage stage
	err   error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func tag(s stage, err error) error {
	if err == nil {
		return nil
	}
	var se *stepError
	if errors.As(err, &se) {
		return err
	}
	return &stepError{stage: s, err: err}
}

type class int

const (
	classRetry class = iota
	classDeferred
	classPermanent
	classDown
)

// downKinds are the transport error kinds that mean a system is down rather
// than a record being bad.
func downKinds() []transport.Kind {
	return []transport.Kind{transport.ErrUnavailable, transport.ErrNetwork, transport.ErrServer,
		transport.ErrRateLimited, transport.ErrTimeout, transport.ErrAuth}
}

// IsSystemDown reports whether err (after the client's own retries) means
// the system that returned it is unavailable: an open breaker, network
// errors, 5xx, 429 or a long Retry-After, timeouts, or refused credentials.
func IsSystemDown(err error) bool {
	var rl *transport.RetryLaterError
	if errors.As(err, &rl) {
		return true
	}
	for _, k := range downKinds() {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// recordLevel reports whether err, which IsSystemDown takes for a system
// failure, may as well be one record's own: a 5xx or a 403 response
// answering a call about that record. With a real client, a system that is
// down for every record soon opens the circuit breaker (ErrUnavailable),
// which is the system's. An open breaker, network errors, timeouts, rate limits,
// a 401 and credentials that cannot be obtained are always the system's.
func recordLevel(err error) bool {
	var se *stepError
	if errors.As(err, &se) && se.stage == stageStore {
		return false
	}
	var rl *transport.RetryLaterError
	if errors.As(err, &rl) {
		return false
	}
	for _, k := range []transport.Kind{transport.ErrUnavailable, transport.ErrNetwork, transport.ErrTimeout, transport.ErrRateLimited} {
		if errors.Is(err, k) {
			return false
		}
	}
	// Only an HTTP response to this record's own call (*rest.Error) says
	// so; a transport or token failure of the same kind is the system's.
	var re *rest.Error
	if errors.As(err, &re) {
		return re.StatusCode == 403 || re.StatusCode >= 500
	}
	return false
}

func classify(err error) class {
	var se *stepError
	if errors.As(err, &se) && se.stage == stageStore {
		return classDown
	}
	if errors.Is(err, ErrDeferred) {
		return classDeferred
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return classPermanent
	}
	if IsSystemDown(err) {
		return classDown
	}
	return classRetry
}

func (b *syncBase) downError(err error) *SystemDownError {
	d := &SystemDownError{Sync: b.name, Err: err}
	var se *stepError
	if errors.As(err, &se) {
		switch se.stage {
		case stageSource:
			d.System = b.sourceSystem
		case stageTarget:
			d.System = b.targetSystem
		case stageStore:
			d.System = StoreSystem
		}
	}
	d.Auth = errors.Is(err, transport.ErrAuth)
	if at, ok := transport.RetryAt(err); ok {
		d.RetryAt = at
	}
	return d
}

// IdempotencyKey is the key the engine passes to Create and Update: a hash
// of the sync name, the source key and the source version, so that every
// attempt at the same change, across retries and restarts, carries the same
// key.
func IdempotencyKey(sync, sourceKey string, version int64) string {
	h := sha256.New()
	h.Write([]byte(sync))
	h.Write([]byte{0})
	h.Write([]byte(sourceKey))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, version, 10))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// CreateIdempotencyKey is the key the engine passes to Create: a hash of
// the sync name and the source key only. A create retried after its commit
// was lost carries the same key even when the record changed meanwhile, so
// a target that honours idempotency keys returns the record it created
// instead of creating a second one.
func CreateIdempotencyKey(sync, sourceKey string) string {
	h := sha256.New()
	h.Write([]byte(sync))
	h.Write([]byte{0})
	h.Write([]byte(sourceKey))
	h.Write([]byte{0, 'c', 'r', 'e', 'a', 't', 'e'})
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

const maxErrorText = 4 << 10

// secretPairs matches name/value pairs with secret-looking names anywhere in
// a text (JSON members, form values, key=value), which
// transport.RedactSecrets leaves alone when the text as a whole is not JSON.
var secretPairs = regexp.MustCompile(`(?i)((?:access|refresh|id)_?token|client_?secret|password|passwd|api_?key|apikey|secret|token|signature)("?\s*[:=]\s*)("[^"]*"|[^\s,&;}"]+)`)

// redactError renders err for storage and logs: secret-looking values
// (tokens, passwords, Authorization credentials) are replaced, and the text
// is bounded.
func redactError(err error) string {
	if err == nil {
		return ""
	}
	b := transport.RedactSecrets([]byte(err.Error()))
	b = secretPairs.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := secretPairs.FindSubmatchIndex(m)
		out := append([]byte(nil), m[:sub[6]]...)
		if m[sub[6]] == '"' {
			return append(out, `"`+secret.Redacted+`"`...)
		}
		return append(out, secret.Redacted...)
	})
	if len(b) > maxErrorText {
		b = append(b[:maxErrorText:maxErrorText], "…"...)
	}
	return string(b)
}

func canceled(ctx context.Context) bool { return ctx.Err() != nil }
