package load

import (
	"strings"
)

// Pointer helpers for JSON pointers (RFC 6901) in the "#/a/b" form used by
// $ref, and a classifier that says what OpenAPI object a pointer names.

// splitPointer turns "#/paths/~1leads/get" into ["paths", "/leads", "get"].
func splitPointer(ptr string) []string {
	ptr = strings.TrimPrefix(ptr, "#")
	ptr = strings.TrimPrefix(ptr, "/")
	if ptr == "" {
		return nil
	}
	segs := strings.Split(ptr, "/")
	for i, s := range segs {
		segs[i] = unescapeSegment(s)
	}
	return segs
}

func unescapeSegment(s string) string {
	if !strings.Contains(s, "~") && !strings.Contains(s, "%") {
		return s
	}
	s = strings.ReplaceAll(s, "~1", "/")
	s = strings.ReplaceAll(s, "~0", "~")
	if strings.Contains(s, "%") {
		if u, err := pathUnescape(s); err == nil {
			s = u
		}
	}
	return s
}

// EscapeSegment escapes one JSON pointer segment.
func EscapeSegment(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	s = strings.ReplaceAll(s, "~", "~0")
	return strings.ReplaceAll(s, "/", "~1")
}

// JoinPointer appends segments (unescaped) to ptr.
func JoinPointer(ptr string, segs ...string) string {
	var b strings.Builder
	b.WriteString(ptr)
	if ptr == "" {
		b.WriteByte('#')
	}
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(EscapeSegment(s))
	}
	return b.String()
}

// objKind is the kind of OpenAPI object found at a pointer.
type objKind int

const (
	kindOther objKind = iota
	kindSchema
	kindParameter
	kindRequestBody
	kindResponse
	kindHeader
	kindPathItem
	kindOperation
	kindMediaType
	kindExample
	kindSecurityScheme
	kindLink
	kindCallback
	kindValue // example/default/enum data: no $ref semantics
)

func (k objKind) String() string {
	switch k {
	case kindSchema:
		return "schema"
	case kindParameter:
		return "parameter"
	case kindRequestBody:
		return "request body"
	case kindResponse:
		return "response"
	case kindHeader:
		return "header"
	case kindPathItem:
		return "path item"
	case kindOperation:
		return "operation"
	case kindMediaType:
		return "media type"
	case kindExample:
		return "example"
	case kindSecurityScheme:
		return "security scheme"
	case kindLink:
		return "link"
	case kindCallback:
		return "callback"
	case kindValue:
		return "value"
	}
	return "object"
}

func isHTTPMethod(s string) bool {
	switch s {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// classify walks the pointer's segments through the OpenAPI object model
// and returns the kind of object the pointer names. It understands both
// OpenAPI 3 and Swagger 2 layouts.
func classify(segs []string) objKind {
	k := kindOther
	state := "root"
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		switch state {
		case "root":
			switch s {
			case "paths", "webhooks":
				state = "paths"
			case "components":
				state = "components"
			case "definitions":
				state, k = "mapOf:schema", kindOther
			case "parameters":
				state = "mapOf:parameter"
			case "responses":
				state = "mapOf:response"
			default:
				return kindOther
			}
		case "paths":
			state, k = "pathItem", kindPathItem
		case "components":
			switch s {
			case "schemas":
				state = "mapOf:schema"
			case "parameters":
				state = "mapOf:parameter"
			case "requestBodies":
				state = "mapOf:requestBody"
			case "responses":
				state = "mapOf:response"
			case "headers":
				state = "mapOf:header"
			case "examples":
				state = "mapOf:example"
			case "securitySchemes":
				state = "mapOf:securityScheme"
			case "links":
				state = "mapOf:link"
			case "callbacks":
				state = "mapOf:callback"
			case "pathItems":
				state = "mapOf:pathItem"
			default:
				return kindOther
			}
		case "mapOf:schema":
			state, k = "schema", kindSchema
		case "mapOf:parameter":
			state, k = "parameter", kindParameter
		case "mapOf:requestBody":
			state, k = "requestBody", kindRequestBody
		case "mapOf:response":
			state, k = "response", kindResponse
		case "mapOf:header":
			state, k = "header", kindHeader
		case "mapOf:example":
			state, k = "value", kindExample
		case "mapOf:securityScheme":
			state, k = "value", kindSecurityScheme
		case "mapOf:link":
			state, k = "value", kindLink
		case "mapOf:callback":
			state, k = "callback", kindCallback
		case "mapOf:pathItem":
			state, k = "pathItem", kindPathItem
		case "callback":
			state, k = "pathItem", kindPathItem
		case "pathItem":
			switch {
			case isHTTPMethod(s):
				state, k = "operation", kindOperation
			case s == "parameters":
				state, k = "mapOf:parameter", kindOther
			default:
				return kindOther
			}
		case "operation":
			switch s {
			case "parameters":
				state, k = "mapOf:parameter", kindOther
			case "requestBody":
				state, k = "requestBody", kindRequestBody
			case "responses":
				state, k = "mapOf:response", kindOther
			case "callbacks":
				state, k = "mapOf:callback", kindOther
			default:
				return kindOther
			}
		case "parameter", "header":
			switch s {
			case "schema", "items": // "items": Swagger 2 non-body parameters
				state, k = "schema", kindSchema
			case "content":
				state, k = "mapOf:mediaType", kindOther
			case "examples", "example":
				return kindValue
			default:
				return kindOther
			}
		case "requestBody":
			if s == "content" {
				state, k = "mapOf:mediaType", kindOther
				continue
			}
			return kindOther
		case "response":
			switch s {
			case "content":
				state, k = "mapOf:mediaType", kindOther
			case "headers":
				state, k = "mapOf:header", kindOther
			case "schema": // Swagger 2
				state, k = "schema", kindSchema
			case "links":
				state, k = "mapOf:link", kindOther
			default:
				return kindOther
			}
		case "mapOf:mediaType":
			state, k = "mediaType", kindMediaType
		case "mediaType":
			switch s {
			case "schema":
				state, k = "schema", kindSchema
			case "examples", "example":
				return kindValue
			default:
				return kindOther
			}
		case "schema":
			switch s {
			case "properties", "patternProperties", "definitions", "$defs", "dependentSchemas":
				state, k = "mapOf:schema", kindOther
			case "items", "additionalProperties", "not", "contains", "propertyNames",
				"if", "then", "else", "unevaluatedItems", "unevaluatedProperties", "additionalItems":
				k = kindSchema
			case "allOf", "oneOf", "anyOf", "prefixItems":
				state, k = "listOf:schema", kindOther
			case "example", "examples", "default", "enum", "const":
				return kindValue
			default:
				return kindOther
			}
		case "listOf:schema":
			state, k = "schema", kindSchema
		case "value":
			return kindValue
		}
	}
	return k
}
