package load

import (
	"testing"

	yaml3 "gopkg.in/yaml.v3"

	"go.yaml.in/yaml/v4"
)

// TestYAMLLibrariesAgree: toV3 and fromV3 convert node kinds and styles
// by number, which holds only while the two libraries number them alike.
func TestYAMLLibrariesAgree(t *testing.T) {
	kinds := [][2]uint32{
		{uint32(yaml.DocumentNode), uint32(yaml3.DocumentNode)}, {uint32(yaml.SequenceNode), uint32(yaml3.SequenceNode)},
		{uint32(yaml.MappingNode), uint32(yaml3.MappingNode)}, {uint32(yaml.ScalarNode), uint32(yaml3.ScalarNode)},
		{uint32(yaml.AliasNode), uint32(yaml3.AliasNode)},
		{uint32(yaml.TaggedStyle), uint32(yaml3.TaggedStyle)}, {uint32(yaml.DoubleQuotedStyle), uint32(yaml3.DoubleQuotedStyle)},
		{uint32(yaml.SingleQuotedStyle), uint32(yaml3.SingleQuotedStyle)}, {uint32(yaml.LiteralStyle), uint32(yaml3.LiteralStyle)},
		{uint32(yaml.FoldedStyle), uint32(yaml3.FoldedStyle)}, {uint32(yaml.FlowStyle), uint32(yaml3.FlowStyle)},
	}
	for i, k := range kinds {
		if k[0] != k[1] {
			t.Errorf("constant %d: yaml/v4 %d, yaml.v3 %d", i, k[0], k[1])
		}
	}
}
