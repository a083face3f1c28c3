package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Lead is a CRM lead as the simulated CRM stores it (the fields the spec's
// Lead schema has that the demo uses). Nil pointers are absent (optional
// fields) or null (nullable fields).
type Lead struct {
	ID          string
	FirstName   *string
	LastName    *string
	Email       string
	Phone       *string // nullable
	CompanyName *string
	OwnerID     *string // nullable
	Status      string
	Rating      *string // nullable: Hot, Warm, Cold
	Source      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
	Deleted     bool
	// EverQualified says the lead has been in status qualified at some
	// point (for tests: a lead that never was must not reach the list).
	EverQualified bool
}

func ptr(s string) *string { return &s }

// Owner is a CRM owner (sales rep).
type Owner struct {
	ID     string
	Name   string
	Email  string
	Team   *string // nullable
	Active bool
}

// Lead statuses of the spec.
const (
	StatusNew         = "new"
	StatusContacted   = "contacted"
	StatusQualified   = "qualified"
	StatusUnqualified = "unqualified"
	StatusConverted   = "converted"
)

var (
	firstNames = []string{"Ada", "Grace", "Katherine", "Dorothy", "Mary", "Hedy", "Radia", "Frances", "Barbara",
		"Margaret", "Annie", "Joan", "Sophie", "Lynn", "Karen", "Evelyn", "Jean", "Betty", "Kathleen", "Marlyn"}
	lastNames = []string{"Lovelace", "Hopper", "Johnson", "Vaughan", "Jackson", "Lamarr", "Perlman", "Allen",
		"Liskov", "Hamilton", "Easley", "Clarke", "Wilson", "Conway", "Jones", "Boyd", "Bartik", "Holberton",
		"Antonelli", "Wescoff"}
	companies = []string{"Naval Systems Inc.", "Analytical Engines Ltd", "Orbital Mechanics GmbH",
		"Compiler Works", "Punch Card Co.", "Relay Logic SA", "Core Memory plc", "Vacuum Tube AB"}
	domains  = []string{"navalsystems.example", "analytical.example", "orbital.example", "compiler.example", "punch.example"}
	ratings  = []string{"Hot", "Warm", "Cold"}
	sources  = []string{"web", "referral", "event", "partner", "other"}
	teams    = []string{"Public Sector", "Enterprise", "SMB"}
	nonQual  = []string{StatusNew, StatusContacted, StatusUnqualified, StatusConverted}
	editable = []string{StatusNew, StatusContacted}
)

// messyCase returns s with some letters upper-cased and, sometimes,
// surrounding blanks, as people type addresses into a CRM.
func messyCase(rng *rand.Rand, s string) string {
	if rng.IntN(3) != 0 {
		return s
	}
	b := []byte(s)
	for i := range b {
		if b[i] >= 'a' && b[i] <= 'z' && rng.IntN(4) == 0 {
			b[i] -= 'a' - 'A'
		}
	}
	out := string(b)
	switch rng.IntN(4) {
	case 0:
		out = "  " + out
	case 1:
		out += " "
	case 2:
		out = "\t" + out + "  "
	}
	return out
}

// phone returns a phone number; one in three ends in 00 (a landline by
// phoneutil.Classify's rule).
func phone(rng *rand.Rand) string {
	area := 200 + rng.IntN(700)
	if rng.IntN(3) == 0 {
		return fmt.Sprintf("+1 %d 555 01%02d", area, 0) // ...0100
	}
	n := rng.IntN(10000)
	if n%100 == 0 {
		n++
	}
	switch rng.IntN(3) {
	case 0:
		return fmt.Sprintf("+1 %d 555 %04d", area, n)
	case 1:
		return fmt.Sprintf("+1-%d-555-%04d", area, n)
	default:
		return fmt.Sprintf("(%d) 555.%04d", area, n)
	}
}

// generate fills the CRM with the seeded data set.
func generate(o Options, base time.Time) ([]*Owner, []*Lead) {
	rng := rand.New(rand.NewPCG(o.Seed, 0xc0ffee))
	owners := make([]*Owner, o.Owners)
	for i := range owners {
		fn, ln := firstNames[i%len(firstNames)], lastNames[(i*7)%len(lastNames)]
		ow := &Owner{
			ID:     fmt.Sprintf("own_%04d", i+1),
			Name:   fn + " " + ln,
			Email:  messyCase(rng, strings.ToLower(fmt.Sprintf("%s.%s.%d@acme.example", fn, ln, i+1))),
			Active: i%5 != 4,
		}
		if i%3 != 0 {
			ow.Team = ptr(teams[i%len(teams)])
		}
		owners[i] = ow
	}
	leads := make([]*Lead, o.Leads)
	for i := range leads {
		fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		email := strings.ToLower(fmt.Sprintf("%s.%s.%d@%s", fn, ln, i+1, domains[rng.IntN(len(domains))]))
		t := base.Add(time.Duration(i) * time.Millisecond)
		l := &Lead{
			ID:        fmt.Sprintf("led_%07d", i+1),
			Email:     messyCase(rng, email),
			Source:    sources[rng.IntN(len(sources))],
			CreatedAt: t,
			UpdatedAt: t,
			Version:   1,
		}
		if rng.IntN(10) != 0 {
			l.FirstName = ptr(fn)
		}
		if rng.IntN(20) != 0 {
			l.LastName = ptr(ln)
		}
		if rng.IntN(8) != 0 {
			l.CompanyName = ptr(companies[rng.IntN(len(companies))])
		}
		if rng.IntN(8) != 0 {
			l.Phone = ptr(phone(rng))
		}
		if r := rng.IntN(5); r < 3 {
			l.Rating = ptr(ratings[r])
		}
		if len(owners) > 0 && rng.IntN(10) != 0 {
			l.OwnerID = ptr(owners[rng.IntN(len(owners))].ID)
		}
		if rng.Float64() < o.QualifiedRate {
			l.Status = StatusQualified
			l.EverQualified = true
		} else {
			l.Status = nonQual[rng.IntN(len(nonQual))]
		}
		leads[i] = l
	}
	return owners, leads
}
