package engine

import (
	"encoding/json"
	"time"
)

type cursorJSON struct {
	Time *time.Time `json:"time,omitempty"`
	Int  int64      `json:"int,omitempty"`
}

// MarshalJSON encodes a cursor as {"time": "<RFC 3339>"} or {"int": n}
// (snake_case like the rest of Report).
func (c Cursor) MarshalJSON() ([]byte, error) {
	var j cursorJSON
	if !c.Time.IsZero() {
		j.Time = &c.Time
	}
	j.Int = c.Int
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (c *Cursor) UnmarshalJSON(b []byte) error {
	var j cursorJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Cursor{Int: j.Int}
	if j.Time != nil {
		c.Time = *j.Time
	}
	return nil
}
