package allof_test

import (
	"encoding/json"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/allof/allof"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// Required names beside an allOf or in a constraint-only member make the
// fields plain values: a request without them cannot be written by
// accident (linode POST /vpcs sent {} before).
var (
	_ = allof.CreateVPCRequest{Label: "l", Region: "r"}
	_ = allof.NamedSubnet{Label: "l"}
)

// A property declared in two members keeps both declarations' fields, with
// nested required names applied.
func TestMergedPropertyKeepsEveryField(t *testing.T) {
	in := `{"acl":{"enabled":true,"addresses":{"ipv4":["1.2.3.4"],"ipv6":["::1"]},"revision":"r1"}}`
	var v allof.ACLCluster
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	acl, ok := v.ACL, v.ACL != nil
	if !ok || !acl.Enabled || oas.Or(acl.Revision, "") != "r1" {
		t.Fatalf("acl = %+v", v.ACL)
	}
	addr := acl.Addresses
	if addr == nil || len(addr.IPv4) != 1 || len(addr.IPv6) != 1 {
		t.Errorf("addresses = %+v", addr)
	}
	out, _ := json.Marshal(v)
	if string(out) != in {
		t.Errorf("round trip:\n in  %s\n out %s", in, out)
	}
	// enabled and ipv6 are required: they are sent even when zero.
	out, _ = json.Marshal(allof.ACLCluster{ACL: &allof.ACLClusterACL{Addresses: &allof.ACLClusterACLAddresses{IPv6: []string{}}}})
	if want := `{"acl":{"enabled":false,"addresses":{"ipv6":[]}}}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}
