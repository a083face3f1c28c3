package ir

// Template is a string built from source fields: Text[0], the value of
// Sources[0] (of the Assign) converted to a string by Convs[0], Text[1],
// … Text[len(Sources)]. Raw is the template as written.
type Template struct {
	Raw   string
	Text  []string
	Convs []Conversion
}
