// Package crmemail is a hand-written stand-in for the sync code connectorgen
// generates from specs/crmemail/connector.yaml into golden/crmemail
// (sync_gen.go). It has the same API and implements the mapping by hand so
// that the demo does not wait for the generator; it is deleted once the
// generated package exists.
package crmemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/golden/crmemail/email"
	"github.com/connectorgen/connectorgen/golden/crmemail/phoneutil"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

// Clients are the generated clients the syncs call.
type Clients struct {
	CRM   *crm.Client
	Email *email.Client
}

// NurtureListID is the list_id parameter of email.Member.
const NurtureListID = "lst_nurture"

// OwnersToSendersWrite is what owners_to_senders writes to email.Sender.
type OwnersToSendersWrite struct {
	Email oas.Opt[string]
	Name  oas.Opt[string]
}

// QualifiedLeadsToNurtureWrite is what qualified_leads_to_nurture writes to
// email.Member.
type QualifiedLeadsToNurtureWrite struct {
	EmailAddress oas.Opt[string]
	Status       oas.Opt[email.MemberStatus]
	SourceID     oas.Opt[string]
	FNAME        oas.Opt[string]
	LNAME        oas.Opt[string]
	COMPANY      oas.Opt[string]
	TIER         oas.Opt[email.MemberMergeFieldsTier]
	SENDER       oas.Opt[string]
	MOBILE       oas.Opt[string]
	LANDLINE     oas.Opt[string]
}

func canonical[T any](o oas.Opt[T]) (string, bool) {
	v, ok := o.Get()
	if !ok {
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func field[W any, T any](path string, pol engine.Policy, createOnly bool, get func(w *W) *oas.Opt[T]) engine.Field[W] {
	return engine.Field[W]{Path: path, Policy: pol, CreateOnly: createOnly,
		Value: func(w *W) (string, bool) { return canonical(*get(w)) },
		Clear: func(w *W) { get(w).Unset() }}
}

func statusOf(err error) int {
	var re *rest.Error
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// permanentStatus wraps errors that retrying cannot fix (4xx other than
// 408, 409 and 429).
func permanentStatus(err error) error {
	s := statusOf(err)
	if s >= 400 && s < 500 && s != 408 && s != 409 && s != 429 && s != 401 && s != 403 {
		return engine.Permanent(err)
	}
	return err
}

func trimLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// OwnersToSenders is the owners_to_senders sync.
func OwnersToSenders(c Clients) *engine.Sync[crm.Owner, OwnersToSendersWrite] {
	return &engine.Sync[crm.Owner, OwnersToSendersWrite]{
		Name:         "owners_to_senders",
		SourceSystem: "crm", TargetSystem: "email",
		Source: "crm.Owner", Target: "email.Sender",
		Poll: func(ctx context.Context, _ engine.Cursor) iter.Seq2[crm.Owner, error] {
			return c.CRM.ListOwnersItems(ctx, crm.ListOwnersParams{Limit: oas.Some[int32](200)})
		},
		Fetch: func(ctx context.Context, key string) (crm.Owner, error) {
			o, err := c.CRM.GetOwner(ctx, crm.GetOwnerParams{OwnerID: key})
			if statusOf(err) == http.StatusNotFound {
				return crm.Owner{}, fmt.Errorf("owner %s: %w", key, engine.ErrNotFound)
			}
			if err != nil || o == nil {
				return crm.Owner{}, err
			}
			return *o, nil
		},
		Key:        func(s *crm.Owner) string { return s.ID },
		Version:    func(s *crm.Owner) int64 { return 0 },
		CursorKind: engine.CursorInt,
		Cursor:     func(s *crm.Owner) engine.Cursor { return engine.Cursor{} },
		Map: func(ctx context.Context, s *crm.Owner, l engine.Lookups, create bool) (OwnersToSendersWrite, error) {
			var w OwnersToSendersWrite
			w.Email = oas.Some(trimLower(s.Email))
			w.Name = oas.Some(s.Name)
			return w, nil
		},
		Fields: []engine.Field[OwnersToSendersWrite]{
			field("email", engine.SourceWins, false, func(w *OwnersToSendersWrite) *oas.Opt[string] { return &w.Email }),
			field("name", engine.SourceWins, false, func(w *OwnersToSendersWrite) *oas.Opt[string] { return &w.Name }),
		},
		Match:      []engine.MatchStep{engine.MatchXref, engine.MatchNaturalKey, engine.MatchCreate},
		Xref:       "owners",
		NaturalKey: func(w *OwnersToSendersWrite) string { return w.Email.Or("") },
		Find: func(ctx context.Context, key string) (string, bool, error) {
			res, err := c.Email.ListSenders(ctx, email.ListSendersParams{Email: oas.Some(key)})
			if err != nil {
				return "", false, permanentStatus(err)
			}
			for _, s := range res.Senders {
				if strings.EqualFold(s.Email, key) {
					return s.ID, true, nil
				}
			}
			return "", false, nil
		},
		Create: func(ctx context.Context, w *OwnersToSendersWrite, key string) (string, error) {
			s, err := c.Email.CreateSender(ctx, email.CreateSenderParams{IdempotencyKey: oas.Some(key)},
				email.SenderWrite{Email: w.Email.Or(""), Name: w.Name.Or("")})
			if err != nil {
				return "", permanentStatus(err)
			}
			return s.ID, nil
		},
		Update: func(ctx context.Context, target string, w *OwnersToSendersWrite, _ string) error {
			_, err := c.Email.UpdateSender(ctx, email.UpdateSenderParams{SenderID: target},
				email.SenderWrite{Email: w.Email.Or(""), Name: w.Name.Or("")})
			return permanentStatus(err)
		},
		Retry:      engine.RetryPolicy{MaxAttempts: 5},
		DeadLetter: true,
		Every:      time.Hour,
	}
}

// QualifiedLeadsToNurture is the qualified_leads_to_nurture sync.
func QualifiedLeadsToNurture(c Clients) *engine.Sync[crm.Lead, QualifiedLeadsToNurtureWrite] {
	type W = QualifiedLeadsToNurtureWrite
	return &engine.Sync[crm.Lead, W]{
		Name:         "qualified_leads_to_nurture",
		SourceSystem: "crm", TargetSystem: "email",
		Source: "crm.Lead", Target: "email.Member",
		Poll: func(ctx context.Context, since engine.Cursor) iter.Seq2[crm.Lead, error] {
			p := crm.ListLeadsParams{Limit: oas.Some[int32](200)}
			if !since.Time.IsZero() {
				p.UpdatedSince = oas.Some(since.Time)
			}
			return c.CRM.ListLeadsItems(ctx, p)
		},
		Fetch: func(ctx context.Context, key string) (crm.Lead, error) {
			l, err := c.CRM.GetLead(ctx, crm.GetLeadParams{LeadID: key})
			if statusOf(err) == http.StatusNotFound {
				return crm.Lead{}, fmt.Errorf("lead %s: %w", key, engine.ErrNotFound)
			}
			if err != nil || l == nil {
				return crm.Lead{}, err
			}
			return *l, nil
		},
		Key:        func(s *crm.Lead) string { return s.ID },
		Version:    func(s *crm.Lead) int64 { return s.Version },
		CursorKind: engine.CursorTime,
		Cursor:     func(s *crm.Lead) engine.Cursor { return engine.Cursor{Time: s.UpdatedAt} },
		Lookback:   5 * time.Minute,
		Deleted:    func(s *crm.Lead) bool { return s.Deleted.Or(false) },
		Enter: func(s *crm.Lead) bool {
			return s.Status == crm.LeadStatusQualified && s.Email != ""
		},
		Map: func(ctx context.Context, s *crm.Lead, l engine.Lookups, create bool) (W, error) {
			var w W
			w.EmailAddress = oas.Some(trimLower(s.Email))
			if create {
				w.Status = oas.Some(email.MemberStatusSubscribed)
			}
			w.SourceID = oas.Some(s.ID)
			if v, ok := s.FirstName.Get(); ok {
				w.FNAME = oas.Some(v)
			}
			if v, ok := s.LastName.Get(); ok {
				w.LNAME = oas.Some(v)
			}
			if v, ok := s.CompanyName.Get(); ok {
				w.COMPANY = oas.Some(v)
			}
			if v, ok := s.Rating.Get(); ok {
				switch v {
				case crm.LeadRatingHot:
					w.TIER = oas.Some(email.MemberMergeFieldsTierGold)
				case crm.LeadRatingWarm:
					w.TIER = oas.Some(email.MemberMergeFieldsTierSilver)
				case crm.LeadRatingCold:
					w.TIER = oas.Some(email.MemberMergeFieldsTierBronze)
				default:
					return w, engine.Permanent(fmt.Errorf("rating %q has no TIER", v))
				}
			}
			if v, ok := s.OwnerID.Get(); ok {
				sender, found, err := l.Lookup(ctx, "owners", v)
				if err != nil {
					return w, err
				}
				if !found {
					return w, fmt.Errorf("owner %s has no sender yet: %w", v, engine.ErrDeferred)
				}
				w.SENDER = oas.Some(sender)
			}
			if v, ok := s.Phone.Get(); ok {
				mobile, landline, err := phoneutil.Classify(v)
				if err != nil {
					return w, engine.Permanent(err)
				}
				if mobile != "" {
					w.MOBILE = oas.Some(mobile)
				}
				if landline != "" {
					w.LANDLINE = oas.Some(landline)
				}
			}
			return w, nil
		},
		Fields: []engine.Field[W]{
			field("email_address", engine.SourceWins, false, func(w *W) *oas.Opt[string] { return &w.EmailAddress }),
			field("status", engine.SourceWins, true, func(w *W) *oas.Opt[email.MemberStatus] { return &w.Status }),
			field("source_id", engine.SourceWins, false, func(w *W) *oas.Opt[string] { return &w.SourceID }),
			field("merge_fields.FNAME", engine.TargetWins, false, func(w *W) *oas.Opt[string] { return &w.FNAME }),
			field("merge_fields.LNAME", engine.SourceWins, false, func(w *W) *oas.Opt[string] { return &w.LNAME }),
			field("merge_fields.COMPANY", engine.SourceWins, false, func(w *W) *oas.Opt[string] { return &w.COMPANY }),
			field("merge_fields.TIER", engine.SourceWins, false, func(w *W) *oas.Opt[email.MemberMergeFieldsTier] { return &w.TIER }),
			field("merge_fields.SENDER", engine.SourceWins, false, func(w *W) *oas.Opt[string] { return &w.SENDER }),
			field("merge_fields.MOBILE", engine.SourceWins, false, func(w *W) *oas.Opt[string] { return &w.MOBILE }),
			field("merge_fields.LANDLINE", engine.SourceWins, false, func(w *W) *oas.Opt[string] { return &w.LANDLINE }),
		},
		Match:      []engine.MatchStep{engine.MatchXref, engine.MatchNaturalKey, engine.MatchCreate},
		Xref:       "nurture_members",
		NaturalKey: func(w *W) string { return w.EmailAddress.Or("") },
		Find: func(ctx context.Context, key string) (string, bool, error) {
			res, err := c.Email.FindMembers(ctx, email.FindMembersParams{ListID: NurtureListID, EmailAddress: key})
			if err != nil {
				return "", false, permanentStatus(err)
			}
			for _, m := range res.Members {
				return m.ID, true, nil
			}
			return "", false, nil
		},
		Create: func(ctx context.Context, w *W, key string) (string, error) {
			body := email.AddMemberRequest{EmailAddress: w.EmailAddress.Or(""), Status: w.Status.Or(email.MemberStatusSubscribed),
				MergeFields: oas.Some(mergeFields(w))}
			if v, ok := w.SourceID.Get(); ok {
				body.SourceID = oas.Value(v)
			}
			m, err := c.Email.AddMember(ctx, email.AddMemberParams{ListID: NurtureListID, IdempotencyKey: oas.Some(key)}, body)
			if err != nil {
				return "", permanentStatus(err)
			}
			return m.ID, nil
		},
		Update: func(ctx context.Context, target string, w *W, _ string) error {
			body := email.MemberWrite{EmailAddress: w.EmailAddress, Status: w.Status}
			if v, ok := w.SourceID.Get(); ok {
				body.SourceID = oas.Value(v)
			}
			if w.FNAME.IsSet() || w.LNAME.IsSet() || w.COMPANY.IsSet() || w.TIER.IsSet() || w.SENDER.IsSet() ||
				w.MOBILE.IsSet() || w.LANDLINE.IsSet() {
				body.MergeFields = oas.Some(mergeFields(w))
			}
			_, err := c.Email.UpdateMember(ctx, email.UpdateMemberParams{ListID: NurtureListID, MemberID: target}, body)
			return permanentStatus(err)
		},
		Current: func(ctx context.Context, target string) (map[string]string, time.Time, error) {
			m, err := c.Email.GetMember(ctx, email.GetMemberParams{ListID: NurtureListID, MemberID: target})
			if err != nil {
				return nil, time.Time{}, permanentStatus(err)
			}
			out := map[string]string{}
			put := func(path string, v string, ok bool) {
				if ok {
					b, _ := json.Marshal(v)
					out[path] = string(b)
				}
			}
			put("email_address", m.EmailAddress, true)
			put("status", string(m.Status), true)
			if v, ok := m.SourceID.Get(); ok {
				put("source_id", v, true)
			}
			if mf, ok := m.MergeFields.Get(); ok {
				v, ok := mf.Fname.Get()
				put("merge_fields.FNAME", v, ok)
				v, ok = mf.Lname.Get()
				put("merge_fields.LNAME", v, ok)
				v, ok = mf.Company.Get()
				put("merge_fields.COMPANY", v, ok)
				t, ok := mf.Tier.Get()
				put("merge_fields.TIER", string(t), ok)
				v, ok = mf.Sender.Get()
				put("merge_fields.SENDER", v, ok)
				v, ok = mf.Mobile.Get()
				put("merge_fields.MOBILE", v, ok)
				v, ok = mf.Landline.Get()
				put("merge_fields.LANDLINE", v, ok)
			}
			return out, m.LastChanged, nil
		},
		SourceTime: func(s *crm.Lead) time.Time { return s.UpdatedAt },
		ParseEvent: func(body []byte) (engine.Event, error) {
			var ev crm.LeadEvent
			if err := json.Unmarshal(body, &ev); err != nil {
				return engine.Event{}, err
			}
			if ev.ID == "" || ev.LeadID == "" {
				return engine.Event{}, errors.New("LeadEvent without id or lead_id")
			}
			return engine.Event{ID: ev.ID, Key: ev.LeadID, Version: ev.Version,
				Deleted: ev.Type == crm.LeadEventTypeLeadDeleted}, nil
		},
		Retry:      engine.RetryPolicy{MaxAttempts: 8},
		DeadLetter: true,
		Alerts:     engine.AlertRules{ConsecutiveFailures: 10, Freshness: 2 * time.Hour, DeadLetters: 100},
		Every:      time.Hour,
		Realtime:   true,
	}
}

func mergeFields(w *QualifiedLeadsToNurtureWrite) email.MemberMergeFields {
	return email.MemberMergeFields{Fname: w.FNAME, Lname: w.LNAME, Company: w.COMPANY, Tier: w.TIER,
		Sender: w.SENDER, Mobile: w.MOBILE, Landline: w.LANDLINE}
}

// Register adds every sync of the mapping to e, in mapping order.
func Register(e *engine.Engine, c Clients) error {
	if err := engine.Add(e, OwnersToSenders(c)); err != nil {
		return err
	}
	return engine.Add(e, QualifiedLeadsToNurture(c))
}
