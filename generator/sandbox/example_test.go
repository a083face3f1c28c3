package sandbox_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// Serve the example connector's two systems, add a list member through the
// email system's API, and read the store and the violations back.
func ExampleLoad() {
	sb, err := sandbox.Load("../../specs/crmemail/connector.yaml", sandbox.Options{
		Credentials: map[string]sandbox.Credentials{"email": {APIKey: "demo-key"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()
	email := sb.System("email")
	req, _ := http.NewRequest("POST", email.BaseURL()+"/lists/lst_nurture/members",
		strings.NewReader(`{"email_address":"ada@example.com","status":"subscribed"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", "demo-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	members, _ := email.Records("Member")
	fmt.Println(resp.StatusCode, len(members), members[0]["email_address"], len(sb.Violations()))
	// Output: 201 1 ada@example.com 0
}
