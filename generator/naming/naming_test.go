package naming

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExported(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"can_reset_2fa", "CanReset2FA"},
		{"canReset2FA", "CanReset2FA"},
		{"3ds_version", "X3DSVersion"},
		{"is_2fa_enabled", "Is2FAEnabled"},
		{"vpc_id", "VPCID"},
		{"id", "ID"},
		{"user_id", "UserID"},
		{"userId", "UserID"},
		{"userID", "UserID"},
		{"user_ids", "UserIDs"},
		{"IDs", "IDs"},
		{"HTTPServer", "HTTPServer"},
		{"html_url", "HTMLURL"},
		{"avatar_urls", "AvatarURLs"},
		{"OAuthToken", "OAuthToken"},
		{"oauth2_token", "OAuth2Token"},
		{"ipv4Address", "IPv4Address"},
		{"utf8String", "UTF8String"},
		{"X-RateLimit-Remaining", "XRateLimitRemaining"},
		{"repos/list-for-org", "ReposListForOrg"},
		{"GetV1CustomersCustomer", "GetV1CustomersCustomer"},
		{"AddressLine1", "AddressLine1"},
		{"address_line_1", "AddressLine1"},
		{"3dSecure", "X3dSecure"},
		{"+1", "Plus1"},
		{"-1", "Minus1"},
		{"*", "Star"},
		{"@type", "Type"},
		{"$ref", "Ref"},
		{"already_snake", "AlreadySnake"},
		{"md5_hash", "MD5Hash"},
		{"sha256", "SHA256"},
		{"type", "Type"},
		{"", ""},
		{"über", "Ber"},
		{"api_keys", "APIKeys"},
		{"Bus", "Bus"},
	} {
		if got := Exported(tc.in); got != tc.want {
			t.Errorf("Exported(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExportedSpelled(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"@type", "AtType"},
		{"$ref", "DollarRef"},
		{"type", "Type"},
		{"_links", "UnderscoreLinks"},
	} {
		if got := ExportedSpelled(tc.in); got != tc.want {
			t.Errorf("ExportedSpelled(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnexported(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"URLPath", "urlPath"},
		{"type", "type_"},
		{"string", "string_"},
		{"ListLeads", "listLeads"},
		{"id", "id"},
		{"IDs", "ids"},
	} {
		if got := Unexported(tc.in); got != tc.want {
			t.Errorf("Unexported(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWords(t *testing.T) {
	got := Words("getV2UserIDs_forAccount")
	want := []string{"get", "v2", "user", "ids", "for", "account"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Words mismatch (-want +got):\n%s", diff)
	}
}

func TestScope(t *testing.T) {
	s := NewScope()
	if !s.Reserve("Client", "runtime") {
		t.Fatal("first reserve failed")
	}
	if s.Reserve("Client", "schema") {
		t.Fatal("second reserve of the same name succeeded")
	}
	if got := s.Claim("schema Client", "Client", "ClientModel"); got != "ClientModel" {
		t.Errorf("Claim = %q, want ClientModel", got)
	}
	if got := s.Claim("schema client", "Client", "ClientModel"); got != "ClientModel2" {
		t.Errorf("Claim = %q, want ClientModel2", got)
	}
	if got := s.Claim("x", "", ""); got != "X2" && got != "X" {
		t.Errorf("Claim with no candidates = %q", got)
	}
	if owner, ok := s.Owner("ClientModel"); !ok || owner != "schema Client" {
		t.Errorf("Owner = %q, %v", owner, ok)
	}
}

func TestPackageName(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"crm", true}, {"Crm", false}, {"type", false}, {"string", false}, {"my-pkg", false}, {"", false}, {"email2", true}} {
		if ok, _ := PackageName(tc.in); ok != tc.ok {
			t.Errorf("PackageName(%q) ok = %v, want %v", tc.in, ok, tc.ok)
		}
	}
}

func FuzzExported(f *testing.F) {
	for _, s := range []string{"id", "+1", "user_ids", "OAuth", "3d", "@@", "ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := Exported(s)
		if name == "" {
			return
		}
		if !(name[0] >= 'A' && name[0] <= 'Z') {
			t.Fatalf("Exported(%q) = %q does not start with an upper-case letter", s, name)
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("Exported(%q) = %q has a non-identifier byte", s, name)
			}
		}
	})
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"Lead", "LeadSource", "LeadSource"},
		{"PostContactsBatchRead", "ReadResult", "PostContactsBatchReadResult"},
		{"Lead", "Owner", "LeadOwner"},
		{"Lead", "Leads", "LeadLeads"}, // not a whole word
		{"SiteURL", "URLList", "SiteURLList"},
		{"Lead", "Lead", "LeadLead"}, // nothing would be left of b
		{"A", "AB", "AB"},
	} {
		if got := Join(tc.a, tc.b); got != tc.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSharedName(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"GetUserErrorsItem", "ListVolumesErrorsItem"}, "ErrorsItem"},
		{[]string{"GetUserErrorsItem", "GetUserErrorsItem"}, "GetUserErrorsItem"},
		{[]string{"UploadVideoAlt1RequestEmbed", "UploadVideoRequestEmbed", "EditVideoRequestEmbed"}, "VideoRequestEmbed"},
		{[]string{"VideoUploadStatus", "VideoVersionsUploadStatus"}, "VideoUploadStatus"},
		{[]string{"CreateItem", "UpdateItem"}, ""},                  // one word is too little
		{[]string{"XBillingAddress", "ShippingAddress"}, "Address"}, // whole words only
		{[]string{"GetSiteURLPath", "ListSiteURLPath"}, "SiteURLPath"},
		{[]string{"ParentURLPath", "ChildURLPath"}, "URLPath"},
		{[]string{"GetAB", "ListAB"}, ""}, // a two-letter initialism alone is too vague
		{[]string{"Alpha", "Beta"}, ""},
		{nil, ""},
	} {
		if got := SharedName(c.names); got != c.want {
			t.Errorf("SharedName(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}
