//go:build tools

// Package tools pins Regal for pe-policy's lint of its Rego. Regal is built from this
// module (go build), not with `go install module@version`: the Go module proxy serves
// Regal's versions but refuses its version list, which `go install` reads for deprecations.
package tools

import _ "github.com/open-policy-agent/regal"
