package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/auth"
)

// TokenHook returns an auth.TokenHook (auth.OAuthConfig.OnToken) that
// persists every token obtained for system in the store, so that a rotated
// refresh token survives a restart. Load it at start with Token.
func (e *Engine) TokenHook(system string) auth.TokenHook {
	return func(ctx context.Context, tok *oauth2.Token) error {
		if tok == nil {
			return errors.New("engine: nil token")
		}
		b, err := json.Marshal(tok)
		if err != nil {
			return fmt.Errorf("engine: encoding the token of %s: %w", system, err)
		}
		if err := e.store.SaveToken(ctx, system, b); err != nil {
			return fmt.Errorf("engine: saving the token of %s: %w", system, err)
		}
		return nil
	}
}

// Token returns the token last persisted for system (auth.OAuthConfig.Token),
// or nil when there is none.
func (e *Engine) Token(ctx context.Context, system string) (*oauth2.Token, error) {
	b, ok, err := e.store.LoadToken(ctx, system)
	if err != nil || !ok {
		return nil, err
	}
	var tok oauth2.Token
	if err := json.Unmarshal(b, &tok); err != nil {
		return nil, fmt.Errorf("engine: decoding the token of %s: %w", system, err)
	}
	return &tok, nil
}
