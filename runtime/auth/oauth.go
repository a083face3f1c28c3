package auth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// TokenHook receives every token obtained from the token endpoint, before any
// request uses it. Persist it (at least its RefreshToken, which providers may
// rotate on every refresh) so that a restart resumes with it. A hook error is
// reported to the Observer and Logger; the token is used all the same.
type TokenHook func(ctx context.Context, tok *oauth2.Token) error

// SharedToken is a token store shared by the credentials of one grant in
// several processes (OAuthConfig.Shared), so that they refresh one
// rotating refresh token in turn instead of each spending its own copy.
type SharedToken interface {
	// Lock waits (until ctx ends) while another credential refreshes the
	// token, and holds the others off until release is called.
	Lock(ctx context.Context) (release func(), err error)
	// Latest returns the token saved last (by OnToken, in any process)
	// that this credential may use, or nil when there is none. refused,
	// when not empty, is a refresh token the token endpoint has just
	// refused: then any stored token with another refresh token applies.
	Latest(ctx context.Context, refused string) (*oauth2.Token, error)
}

// OAuthConfig configures an OAuth 2.0 credential.
type OAuthConfig struct {
	// TokenURL is the token endpoint.
	TokenURL string
	// ClientID and ClientSecret identify the client.
	ClientID     string
	ClientSecret secret.Secret
	// Scopes are requested with the client credentials grant (and with the
	// refresh grant when set).
	Scopes []string
	// EndpointParams are extra token request parameters (e.g. audience).
	EndpointParams url.Values
	// AuthStyle says how the client authenticates to the token endpoint.
	// The zero value (AutoDetect) is treated as AuthStyleInHeader (HTTP
	// basic, which RFC 6749 requires servers to support): auto-detection
	// costs a second token request on every failure. Set AuthStyleInParams
	// for providers that need it.
	AuthStyle oauth2.AuthStyle
	// RefreshToken is the refresh grant's initial refresh token. It may also
	// come with Token.
	RefreshToken secret.Secret
	// Token is an initial token, e.g. the one the TokenHook persisted.
	Token *oauth2.Token
	// EarlyRefresh renews a token this long before it expires (at most half
	// of its lifetime). Default 60 s.
	EarlyRefresh time.Duration
	// RefreshTimeout bounds one token request. Default 30 s.
	RefreshTimeout time.Duration
	// HTTPClient sends token requests. Default: a client over
	// http.DefaultTransport with a 30 s timeout.
	HTTPClient *http.Client
	// OnToken persists new tokens; see TokenHook.
	OnToken TokenHook
	// Shared, when set, is the token store this credential shares with
	// the credentials of other processes (or engines) for the same grant
	// (engine.SharedToken), for the refresh token grant: each refresh
	// takes its lock, and first loads the latest saved token — another
	// process may have rotated the refresh token — using it without a
	// token request when its access token is still valid. A refresh token
	// the endpoint refuses (invalid_grant) is retried once with the stored
	// one when that differs. OnToken must save into the same store, under
	// the lock (the engine's TokenHook does).
	Shared SharedToken
	// System and Observer receive token refresh reports; Logger gets a
	// warning when OnToken fails.
	System   string
	Observer observe.Observer
	Logger   *slog.Logger
	// Now is the clock for expiry checks. Default time.Now.
	Now func() time.Time
	// InsecureTokenURL allows a plain-http TokenURL on a host that is not
	// loopback (development against a trusted network only: the client
	// secret and refresh token would travel in clear text).
	InsecureTokenURL bool
}

const (
	grantClientCredentials = iota
	grantRefreshToken
)

// OAuth is an OAuth 2.0 credential: it sends "Authorization: Bearer <access
// token>", fetches and refreshes the token at the token endpoint (through
// golang.org/x/oauth2), refreshes early, lets one goroutine refresh while the
// others wait for its result, and renews once when the API answers 401. A
// permanent failure (invalid_grant and other errors that a retry cannot fix)
// is remembered: later calls fail fast with the same
// *ReauthorizationRequiredError without contacting the token endpoint, until
// SetToken supplies new credentials. Safe for concurrent use.
type OAuth struct {
	cfg    OAuthConfig
	grant  int
	scheme string
	cc     *clientcredentials.Config
	conf   *oauth2.Config
	client *http.Client

	mu           sync.Mutex
	tok          *oauth2.Token
	header       secret.Secret // "Bearer <access token>"
	prevAccess   secret.Secret // the access token header replaced last, for redaction
	refreshAt    time.Time     // when the token is renewed (early)
	refreshToken secret.Secret
	flight       *flight
	permanent    error
	// stored is the header value of a token taken from the shared store
	// (another process's), until a token comes from the endpoint.
	stored secret.Secret

	// unsaved is a token obtained from the endpoint whose OnToken save
	// failed: its refresh token may be the only valid one (providers
	// rotate them), so the save is retried — from later calls, after a
	// backoff — until it succeeds or a newer token is saved.
	unsaved   *oauth2.Token
	saving    bool
	saveFails int
	nextSave  time.Time
}

// maxSaveBackoff caps the wait between retries of a failed token save.
const maxSaveBackoff = 5 * time.Minute

type flight struct {
	done   chan struct{}
	header secret.Secret
	err    error
}

// ClientCredentials returns an OAuth credential using the client
// credentials grant.
func ClientCredentials(cfg OAuthConfig) (*OAuth, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("auth: client credentials need a client ID")
	}
	return newOAuth(cfg, grantClientCredentials)
}

// RefreshToken returns an OAuth credential using the refresh token grant
// (for tokens a person authorised once, e.g. through the authorization code
// flow). It needs cfg.RefreshToken or cfg.Token with a refresh token.
func RefreshToken(cfg OAuthConfig) (*OAuth, error) {
	if cfg.RefreshToken.IsZero() && (cfg.Token == nil || cfg.Token.RefreshToken == "") {
		return nil, errors.New("auth: refresh token grant needs a refresh token")
	}
	return newOAuth(cfg, grantRefreshToken)
}

func newOAuth(cfg OAuthConfig, grant int) (*OAuth, error) {
	if cfg.TokenURL == "" {
		return nil, errors.New("auth: OAuth needs a token URL")
	}
	if err := checkTokenURL(cfg.TokenURL, cfg.InsecureTokenURL); err != nil {
		return nil, err
	}
	if cfg.EarlyRefresh <= 0 {
		cfg.EarlyRefresh = time.Minute
	}
	if cfg.RefreshTimeout <= 0 {
		cfg.RefreshTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthStyle == oauth2.AuthStyleAutoDetect {
		cfg.AuthStyle = oauth2.AuthStyleInHeader
	}
	o := &OAuth{cfg: cfg, grant: grant, client: cfg.HTTPClient}
	if o.client == nil {
		o.client = &http.Client{Timeout: 30 * time.Second}
	}
	o.refreshToken = cfg.RefreshToken
	switch grant {
	case grantClientCredentials:
		o.cc = &clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret.Reveal(), TokenURL: cfg.TokenURL,
			Scopes: cfg.Scopes, EndpointParams: cfg.EndpointParams, AuthStyle: cfg.AuthStyle}
	case grantRefreshToken:
		o.conf = &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret.Reveal(), Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL, AuthStyle: cfg.AuthStyle}}
	}
	if cfg.Token != nil {
		o.setTokenLocked(cfg.Token)
	}
	return o, nil
}

// checkTokenURL applies the base URL rule to the token endpoint, which
// receives the client secret and the refresh token: absolute, https, or
// plain http only to a loopback host (or when insecure is set).
func checkTokenURL(raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("auth: invalid token URL")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return errors.New("auth: token URL " + u.Redacted() + " is not absolute (no host)")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if insecure || loopback(host) {
			return nil
		}
		return errors.New("auth: token URL " + u.Redacted() + " is not https: the client secret and refresh token are only sent over plain http to loopback addresses")
	}
	return errors.New("auth: token URL " + u.Redacted() + " must be https")
}

// SetToken replaces the current token (and its refresh token, when set) and
// clears a remembered permanent failure, e.g. after a person re-authorised
// the connector.
func (o *OAuth) SetToken(tok *oauth2.Token) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.permanent = nil
	o.stored = secret.Secret{}
	o.setTokenLocked(tok)
}

// setTokenLocked installs tok; o.mu is held (or o is not shared yet).
func (o *OAuth) setTokenLocked(tok *oauth2.Token) {
	if tok.RefreshToken != "" {
		o.refreshToken = secret.New(tok.RefreshToken)
	}
	if tok.AccessToken == "" {
		if !o.header.IsZero() {
			o.prevAccess = o.header
		}
		o.tok, o.header, o.refreshAt = nil, secret.Secret{}, time.Time{}
		return
	}
	o.tok = tok
	if !o.header.IsZero() {
		o.prevAccess = o.header
	}
	o.header = secret.New(tok.Type() + " " + tok.AccessToken)
	if tok.Expiry.IsZero() {
		o.refreshAt = time.Time{}
		return
	}
	margin := o.cfg.EarlyRefresh
	if life := tok.Expiry.Sub(o.cfg.Now()); life/2 < margin {
		margin = life / 2
	}
	if margin < 0 {
		margin = 0
	}
	o.refreshAt = tok.Expiry.Add(-margin)
}

// freshLocked reports whether the current token can be used without
// refreshing.
func (o *OAuth) freshLocked(now time.Time) bool {
	return o.tok != nil && (o.refreshAt.IsZero() || now.Before(o.refreshAt))
}

// validLocked reports whether the current token has not expired yet.
func (o *OAuth) validLocked(now time.Time) bool {
	return o.tok != nil && (o.tok.Expiry.IsZero() || now.Before(o.tok.Expiry))
}

// Apply sets the Authorization header, refreshing the token first when it
// is missing or due.
func (o *OAuth) Apply(req *http.Request) error {
	h, err := o.authorization(req.Context(), "")
	if err != nil {
		return err
	}
	req.Header["Authorization"] = []string{h}
	return nil
}

// Invalidate renews the token after rejected was answered 401, unless the
// token changed since rejected was made.
func (o *OAuth) Invalidate(ctx context.Context, rejected *http.Request) error {
	_, err := o.authorization(ctx, rejected.Header.Get("Authorization"))
	return err
}

// authorization returns the header value to send. A non-empty stale is a
// header value the server rejected: a token with that value is renewed.
func (o *OAuth) authorization(ctx context.Context, stale string) (string, error) {
	o.mu.Lock()
	if o.permanent != nil {
		err := o.permanent
		o.mu.Unlock()
		return "", err
	}
	now := o.cfg.Now()
	if o.unsaved != nil && !o.saving && !now.Before(o.nextSave) {
		o.saving = true
		go o.retrySave(o.unsaved)
	}
	forced := stale != ""
	if o.tok != nil && (forced && o.header.Reveal() != stale || !forced && o.freshLocked(now)) {
		h := o.header.Reveal()
		o.mu.Unlock()
		return h, nil
	}
	f := o.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		o.flight = f
		go o.refresh(f, stale)
	}
	o.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if f.err == nil {
		return f.header.Reveal(), nil
	}
	var perm *ReauthorizationRequiredError
	if !errors.As(f.err, &perm) && !forced {
		// A transient failure: keep using a token that has not expired.
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.validLocked(o.cfg.Now()) {
			return o.header.Reveal(), nil
		}
	}
	return "", f.err
}

// refresh runs one token request for flight f, detached from any caller's
// cancellation. A non-empty stale is the header value the API rejected.
func (o *OAuth) refresh(f *flight, stale string) {
	forced := stale != ""
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.RefreshTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.client)
	start := time.Now()
	var tok *oauth2.Token
	var err error
	stored := false // tok is the shared store's, not a new one
	release := func() {}
	switch o.grant {
	case grantClientCredentials:
		tok, err = o.cc.Token(ctx)
		err = o.classifyExchange(tok, err)
	case grantRefreshToken:
		if o.cfg.Shared == nil {
			tok, err = o.exchange(ctx, o.currentRefreshToken())
			break
		}
		// Serialised with the other holders of the shared token, up to
		// the save of the new one (OnToken below).
		var lerr error
		if release, lerr = o.cfg.Shared.Lock(ctx); lerr != nil {
			release = func() {}
			err = o.storeError("locking", lerr)
			break
		}
		tok, stored, err = o.refreshShared(ctx, stale)
	}
	outcome := observe.TokenRefreshed
	if err != nil {
		outcome = observe.TokenFailed
		var perm *ReauthorizationRequiredError
		if errors.As(err, &perm) {
			outcome = observe.TokenReauthorize
		}
	} else if o.cfg.OnToken != nil && !stored {
		herr := o.cfg.OnToken(ctx, tok)
		o.mu.Lock()
		if herr != nil {
			// Keep it pending: the save is retried by later calls.
			o.unsaved, o.saveFails = tok, 0
			o.nextSave = o.cfg.Now().Add(time.Second)
		} else {
			// A newer token is stored: an older unsaved one is moot.
			o.unsaved = nil
		}
		o.mu.Unlock()
		if herr != nil {
			o.saveFailed(ctx, forced, herr, tok, time.Since(start))
		}
	}
	release()
	o.mu.Lock()
	if err != nil {
		f.err = err
		var perm *ReauthorizationRequiredError
		if errors.As(err, &perm) {
			o.permanent = err
		}
	} else {
		o.setTokenLocked(tok)
		f.header = o.header
		o.stored = secret.Secret{}
		if stored {
			o.stored = o.header
		}
	}
	o.flight = nil
	o.mu.Unlock()
	close(f.done)
	if !stored {
		o.report(forced, outcome, time.Since(start))
	}
}

// fromStore reports whether header is the value of a token taken from
// the shared store (not obtained from the endpoint by this credential).
func (o *OAuth) fromStore(header string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.stored.IsZero() && o.stored.Reveal() == header
}

// currentRefreshToken returns the refresh token the next refresh presents.
func (o *OAuth) currentRefreshToken() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.refreshToken.Reveal()
}

// exchange runs one refresh token grant request with rt.
func (o *OAuth) exchange(ctx context.Context, rt string) (*oauth2.Token, error) {
	tok, err := o.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	return tok, o.classifyExchange(tok, err)
}

// classifyExchange turns the outcome of a token request into nil, a
// *ReauthorizationRequiredError or a *TokenError.
func (o *OAuth) classifyExchange(tok *oauth2.Token, err error) error {
	if err == nil && tok.AccessToken == "" {
		err = errors.New("token endpoint returned no access token")
	}
	if err != nil {
		return o.classify(err)
	}
	return nil
}

// refreshShared renews the token through the shared store, whose lock the
// caller holds. The latest stored token comes first: when another process
// saved a newer one (another access token or refresh token) its refresh
// token replaces this credential's — the one held here may have been
// rotated away — and its access token is used as it is while it stays
// valid (and is not the rejected stale one). Otherwise the refresh token is
// exchanged; when the endpoint refuses it and the store holds another, that
// one is tried once. stored reports that tok came from the store (it is
// saved already).
func (o *OAuth) refreshShared(ctx context.Context, stale string) (tok *oauth2.Token, stored bool, err error) {
	latest, err := o.cfg.Shared.Latest(ctx, "")
	if err != nil {
		return nil, false, o.storeError("loading", err)
	}
	o.mu.Lock()
	// A token whose save is still pending is newer than the store's.
	if latest != nil && o.unsaved == nil && o.newerLocked(latest) {
		if latest.RefreshToken != "" {
			o.refreshToken = secret.New(latest.RefreshToken)
		}
		if o.usableLocked(latest, stale) {
			o.mu.Unlock()
			return latest, true, nil
		}
	}
	rt := o.refreshToken.Reveal()
	o.mu.Unlock()
	tok, err = o.exchange(ctx, rt)
	var perm *ReauthorizationRequiredError
	if err == nil || !errors.As(err, &perm) || !refusedGrant(perm) {
		return tok, false, err
	}
	// Refused: another process (or an operator's re-authorisation) may
	// have replaced the refresh token since it was read. A pending token
	// with the refused refresh token is worthless: its save, retried
	// later, must not replace the store's.
	o.mu.Lock()
	if o.unsaved != nil && o.unsaved.RefreshToken == rt {
		o.unsaved = nil
	}
	o.mu.Unlock()
	latest, lerr := o.cfg.Shared.Latest(ctx, rt)
	if lerr != nil {
		return nil, false, o.storeError("loading", lerr)
	}
	if latest == nil || latest.RefreshToken == "" || latest.RefreshToken == rt {
		return nil, false, err
	}
	o.mu.Lock()
	o.refreshToken = secret.New(latest.RefreshToken)
	usable := o.usableLocked(latest, stale)
	o.mu.Unlock()
	if usable {
		return latest, true, nil
	}
	tok, err = o.exchange(ctx, latest.RefreshToken)
	return tok, false, err
}

// refusedGrant reports whether the endpoint refused the refresh token
// itself (invalid_grant, or a bare 400), which another stored refresh
// token may cure, rather than the client.
func refusedGrant(e *ReauthorizationRequiredError) bool {
	return e.Code == "invalid_grant" || e.Code == "" && e.Status == http.StatusBadRequest
}

// newerLocked reports whether a stored token differs from the one held.
func (o *OAuth) newerLocked(t *oauth2.Token) bool {
	if t.RefreshToken != "" && t.RefreshToken != o.refreshToken.Reveal() {
		return true
	}
	return t.AccessToken != "" && (o.tok == nil || t.AccessToken != o.tok.AccessToken)
}

// storedValidity is how long a stored access token must still be valid to
// be used instead of refreshing (at most EarlyRefresh).
const storedValidity = 10 * time.Second

// usableLocked reports whether a stored token's access token can be used
// as it is: present, not the one the API rejected, and valid for a while.
func (o *OAuth) usableLocked(t *oauth2.Token, stale string) bool {
	if t.AccessToken == "" || stale != "" && t.Type()+" "+t.AccessToken == stale {
		return false
	}
	return t.Expiry.IsZero() || o.cfg.Now().Add(min(o.cfg.EarlyRefresh, storedValidity)).Before(t.Expiry)
}

// storeError is a transient failure of the shared token store.
func (o *OAuth) storeError(op string, err error) error {
	kind := transport.ErrNetwork
	if errors.Is(err, context.DeadlineExceeded) {
		kind = transport.ErrTimeout
	}
	return &TokenError{Scheme: o.scheme, Kind: kind,
		Err: errors.New(op + " the shared token: " + string(o.redact(transport.RedactSecrets([]byte(err.Error())))))}
}

// saveFailed reports a failed token save.
func (o *OAuth) saveFailed(ctx context.Context, forced bool, err error, tok *oauth2.Token, d time.Duration) {
	o.report(forced, observe.TokenPersistFailed, d)
	if o.cfg.Logger != nil {
		o.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "oauth token could not be persisted; kept pending and retried",
			slog.String("system", o.cfg.System), slog.String("scheme", o.scheme),
			slog.String("error", string(o.redactWith(transport.RedactSecrets([]byte(err.Error())), tok.AccessToken, tok.RefreshToken))))
	}
}

// retrySave saves a pending token again (o.saving is set by the caller).
func (o *OAuth) retrySave(tok *oauth2.Token) {
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.RefreshTimeout)
	defer cancel()
	start := time.Now()
	err := o.cfg.OnToken(ctx, tok)
	o.settleSave(tok, err)
	if err != nil {
		o.saveFailed(ctx, false, err, tok, time.Since(start))
		return
	}
	o.report(false, observe.TokenPersisted, time.Since(start))
}

// settleSave records the outcome of a retried save of tok.
func (o *OAuth) settleSave(tok *oauth2.Token, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.saving = false
	if o.unsaved != tok {
		return // a newer token replaced it meanwhile
	}
	if err == nil {
		o.unsaved = nil
		return
	}
	o.saveFails++
	backoff := time.Second << min(o.saveFails, 9)
	o.nextSave = o.cfg.Now().Add(min(backoff, maxSaveBackoff))
}

// PendingSave reports whether a token obtained from the endpoint has not
// been saved by OnToken yet (its save failed and is being retried).
func (o *OAuth) PendingSave() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unsaved != nil
}

// Flush saves a pending token now (call it before shutting down): a
// rotated refresh token that is not stored is lost with the process. It
// returns the save's error, and nil when nothing is pending.
func (o *OAuth) Flush(ctx context.Context) error {
	o.mu.Lock()
	tok := o.unsaved
	o.mu.Unlock()
	if tok == nil || o.cfg.OnToken == nil {
		return nil
	}
	err := o.cfg.OnToken(ctx, tok)
	o.mu.Lock()
	if o.unsaved == tok && err == nil {
		o.unsaved = nil
	}
	o.mu.Unlock()
	if err != nil {
		o.saveFailed(ctx, false, err, tok, 0)
		return errors.New("auth: the pending token of " + quote(o.scheme) + " could not be saved: " + string(o.redactWith(transport.RedactSecrets([]byte(err.Error())), tok.AccessToken, tok.RefreshToken)))
	}
	o.report(false, observe.TokenPersisted, 0)
	return nil
}

func (o *OAuth) report(forced bool, outcome observe.TokenOutcome, d time.Duration) {
	if o.cfg.Observer != nil {
		o.cfg.Observer.ObserveTokenRefresh(observe.TokenRefresh{System: o.cfg.System, Scheme: o.scheme, Forced: forced, Outcome: outcome, Duration: d})
	}
}

// appendSecrets lists the values o sends or holds: the client secret, the
// refresh token (as configured and current) and the access token (current
// and previous), with and without the "Bearer " prefix.
func (o *OAuth) appendSecrets(dst []string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	dst = append(dst, o.cfg.ClientSecret.Reveal(), o.cfg.RefreshToken.Reveal(), o.refreshToken.Reveal())
	for _, h := range [...]secret.Secret{o.header, o.prevAccess} {
		v := h.Reveal()
		dst = append(dst, v)
		if _, tok, ok := strings.Cut(v, " "); ok {
			dst = append(dst, tok)
		}
	}
	return dst
}

// redact replaces o's own secrets in text (see Set.Redact).
func (o *OAuth) redact(text []byte) []byte { return o.redactWith(text) }

// redactWith replaces o's own secrets and extra values in text.
func (o *OAuth) redactWith(text []byte, extra ...string) []byte {
	var buf [12]string
	return redactValues(text, append(o.appendSecrets(buf[:0]), extra...))
}

// permanentCodes are RFC 6749 error codes that no retry can fix.
func permanentCode(code string) bool {
	switch code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope":
		return true
	}
	return false
}

// classify turns an x/oauth2 error into a ReauthorizationRequiredError
// (permanent) or a TokenError (transient), neither of which carries the
// response body or any secret.
func (o *OAuth) classify(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		permanent := permanentCode(re.ErrorCode) ||
			re.ErrorCode == "" && (status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden)
		if permanent {
			return &ReauthorizationRequiredError{Scheme: o.scheme, Code: re.ErrorCode, Status: status,
				Description: safeDescription(string(o.redact(transport.RedactSecrets([]byte(re.ErrorDescription)))))}
		}
		kind := transport.ErrAuth
		switch {
		case status == http.StatusTooManyRequests:
			kind = transport.ErrRateLimited
		case status >= 500:
			kind = transport.ErrServer
		}
		return &TokenError{Scheme: o.scheme, Kind: kind, Status: status, Code: re.ErrorCode}
	}
	kind := transport.ErrNetwork
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		kind = transport.ErrTimeout
	}
	return &TokenError{Scheme: o.scheme, Kind: kind, Err: stripURL(err)}
}

// safeDescription keeps a short, printable error_description.
func safeDescription(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// stripURL removes the URL (which could carry parameters) from a *url.Error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: "token endpoint", Err: ue.Err}
	}
	return err
}

// ReauthorizationRequiredError is a permanent OAuth failure: the token
// endpoint rejected the grant or the client (invalid_grant, invalid_client,
// ...). A person must authorise the connector again (or fix the client
// credentials); until then every call fails fast with this error. It matches
// transport.ErrAuth.
type ReauthorizationRequiredError struct {
	Scheme      string
	Code        string
	Status      int
	Description string
}

func (e *ReauthorizationRequiredError) Error() string {
	var b strings.Builder
	b.WriteString("auth: security scheme ")
	b.WriteString(quote(e.Scheme))
	b.WriteString(": re-authorisation required: token endpoint answered ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString("status ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Description != "" {
		b.WriteString(" (")
		b.WriteString(e.Description)
		b.WriteByte(')')
	}
	return b.String()
}

// Is reports whether target is transport.ErrAuth.
func (e *ReauthorizationRequiredError) Is(target error) bool { return target == transport.ErrAuth }

// TokenError is a transient failure to obtain a token (network, timeout,
// 5xx, 429); a later call tries again. It matches its Kind.
type TokenError struct {
	Scheme string
	Kind   transport.Kind
	Status int
	Code   string
	Err    error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("auth: security scheme ")
	b.WriteString(quote(e.Scheme))
	b.WriteString(": cannot obtain token: ")
	b.WriteString(e.Kind.Error())
	if e.Status != 0 {
		b.WriteString(" (status ")
		b.WriteString(strconv.Itoa(e.Status))
		if e.Code != "" {
			b.WriteString(", " + e.Code)
		}
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the network cause, if any.
func (e *TokenError) Unwrap() error { return e.Err }

// Is reports whether target is e's Kind.
func (e *TokenError) Is(target error) bool {
	k, ok := target.(transport.Kind)
	return ok && k == e.Kind
}
