package oas

import "io"

// File is one file part of a multipart/form-data request body: the value of
// a property with format "binary" inside such a body. The rest package reads
// Content when it builds the request.
type File struct {
	// Name is the file name sent in the part's Content-Disposition header.
	Name string
	// ContentType is the part's media type; empty means
	// application/octet-stream.
	ContentType string
	// Content supplies the bytes of the part.
	Content io.Reader
}

// IsZero reports whether f has no content, which is how an absent file is
// represented; multipart encoding skips it.
func (f File) IsZero() bool { return f.Content == nil }
