package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// storedToken is what the engine keeps per system in Store.SaveToken: the
// token, and a fingerprint of the refresh token the operator supplied
// (environment, file, vault) when it was obtained, so that a different
// supplied one — a re-authorisation — is recognised after a restart.
type storedToken struct {
	oauth2.Token
	// Supplied is the hex SHA-256 of the operator-supplied refresh token
	// this token descends from ("" when unknown: saved by an older
	// version or without one).
	Supplied string `json:"supplied,omitempty"`
}

func fingerprint(s secret.Secret) string {
	if s.IsZero() {
		return ""
	}
	sum := sha256.Sum256([]byte(s.Reveal()))
	return hex.EncodeToString(sum[:])
}

// tokenSaveAttempts bounds the saves TokenHook tries before it reports the
// failure (the auth package keeps the token pending and calls the hook
// again later).
const tokenSaveAttempts = 3

// TokenHook returns an auth.TokenHook (auth.OAuthConfig.OnToken) that
// persists every token obtained for system in the store, so that a rotated
// refresh token survives a restart. Load it at start with TokenFor. A save
// is tried up to 3 times; when it still fails the hook raises the
// token_not_saved alert (resolved by the next successful save) and returns
// the error, and the auth package keeps the token pending and retries.
func (e *Engine) TokenHook(system string) auth.TokenHook {
	return func(ctx context.Context, tok *oauth2.Token) error {
		if tok == nil {
			return errors.New("engine: nil token")
		}
		e.tokMu.Lock()
		supplied := e.supplied[system]
		e.tokMu.Unlock()
		b, err := json.Marshal(storedToken{Token: *tok, Supplied: supplied})
		if err != nil {
			return fmt.Errorf("engine: encoding the token of %s: %w", system, err)
		}
		for attempt := 1; ; attempt++ {
			err = e.store.SaveToken(ctx, system, b)
			if err == nil || attempt == tokenSaveAttempts || ctx.Err() != nil {
				break
			}
			t := time.NewTimer(time.Duration(attempt) * 100 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		if err != nil {
			e.raise(context.WithoutCancel(ctx), Alert{Kind: AlertTokenNotSaved, System: system, At: e.cfg.now(),
				Message: fmt.Sprintf("the new OAuth token of %s could not be saved in the state store (%s); it is kept in memory and the save is retried, but a restart before it succeeds would start from a revoked refresh token", system, redactError(err))})
			return fmt.Errorf("engine: saving the token of %s: %w", system, err)
		}
		e.clearSystem(context.WithoutCancel(ctx), system, AlertTokenNotSaved, fmt.Sprintf("the OAuth token of %s is saved", system))
		return nil
	}
}

// Token returns the token last persisted for system (auth.OAuthConfig.Token),
// or nil when there is none. Prefer TokenFor, which lets an operator's new
// refresh token replace a revoked one.
func (e *Engine) Token(ctx context.Context, system string) (*oauth2.Token, error) {
	st, ok, err := e.loadToken(ctx, system)
	if err != nil || !ok {
		return nil, err
	}
	return &st.Token, nil
}

// TokenFor returns the token to start system's OAuth credential with
// (auth.OAuthConfig.Token), given the refresh token the operator supplies
// now (auth.OAuthConfig.RefreshToken; zero for client credentials). The
// stored token wins — it carries the latest rotated refresh token — unless
// the supplied refresh token differs from the one the stored token descends
// from: then the operator re-authorised the connector (after invalid_grant,
// say) and TokenFor returns nil so that the supplied one is used. The
// tokens TokenHook saves from then on remember the new supplied one.
func (e *Engine) TokenFor(ctx context.Context, system string, supplied secret.Secret) (*oauth2.Token, error) {
	fp := fingerprint(supplied)
	e.tokMu.Lock()
	if e.supplied == nil {
		e.supplied = map[string]string{}
	}
	e.supplied[system] = fp
	e.tokMu.Unlock()
	st, ok, err := e.loadToken(ctx, system)
	if err != nil || !ok {
		return nil, err
	}
	if fp != "" && st.Supplied != "" && st.Supplied != fp {
		e.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "engine: a new refresh token was supplied; the stored token is replaced",
			slog.String("system", system))
		return nil, nil
	}
	// Same supplied token, or a token saved without a fingerprint (an older
	// version): the stored one is the newest known.
	return &st.Token, nil
}

func (e *Engine) loadToken(ctx context.Context, system string) (storedToken, bool, error) {
	b, ok, err := e.store.LoadToken(ctx, system)
	if err != nil || !ok {
		return storedToken{}, false, err
	}
	var st storedToken
	if err := json.Unmarshal(b, &st); err != nil {
		return storedToken{}, false, fmt.Errorf("engine: decoding the token of %s: %w", system, err)
	}
	return st, true, nil
}

// SharedToken returns system's token store for auth.OAuthConfig.Shared:
// the OAuth credentials of every process on this state (and every engine
// on this store) refresh system's token in turn, under Store.LockToken,
// each first loading the token saved last — so that a refresh token
// rotated by one process is not spent again by another (invalid_grant).
// Use it with TokenFor and TokenHook.
//
// Before a refresh, a stored token that descends from another
// operator-supplied refresh token than the one this engine was given
// (TokenFor) is ignored: the operator's re-authorisation wins, as in
// TokenFor. After the endpoint refused a refresh token, any stored token
// with another refresh token applies (the operator re-authorised through
// another process, say), and the tokens TokenHook saves from then on
// descend from it.
func (e *Engine) SharedToken(system string) auth.SharedToken {
	return sharedToken{e: e, system: system}
}

type sharedToken struct {
	e      *Engine
	system string
}

func (s sharedToken) Lock(ctx context.Context) (func(), error) {
	return s.e.store.LockToken(ctx, s.system)
}

func (s sharedToken) Latest(ctx context.Context, refused string) (*oauth2.Token, error) {
	st, ok, err := s.e.loadToken(ctx, s.system)
	if err != nil || !ok {
		return nil, err
	}
	e := s.e
	e.tokMu.Lock()
	defer e.tokMu.Unlock()
	fp := e.supplied[s.system]
	if refused == "" {
		if fp != "" && st.Supplied != "" && st.Supplied != fp {
			return nil, nil
		}
		return &st.Token, nil
	}
	if st.RefreshToken == "" || st.RefreshToken == refused {
		return nil, nil
	}
	if st.Supplied != "" && st.Supplied != fp {
		if e.supplied == nil {
			e.supplied = map[string]string{}
		}
		e.supplied[s.system] = st.Supplied
		e.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "engine: the refresh token was refused; continuing from the one another process saved after a re-authorisation",
			slog.String("system", s.system))
	}
	return &st.Token, nil
}
