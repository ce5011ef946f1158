package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Every error code declared in errors.go has its metrics series and its row
// in README's error table (internal_error, a bug's answer, has no row).
func TestEveryErrorCodeIsCountedAndDocumented(t *testing.T) {
	declared := declaredErrorCodes(t)
	if len(declared) < 10 {
		t.Fatalf("found only %d codes in errors.go: the parse is broken", len(declared))
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range declared {
		t.Run(string(code), func(t *testing.T) {
			if !slices.Contains(allErrorCodes, code) {
				t.Errorf("%s is not in allErrorCodes", code)
			}
			if !strings.Contains(string(readme), "| `"+string(code)+"` |") {
				t.Errorf("%s has no row in README's error table", code)
			}
			if code != codeInternal && code.status() == 500 {
				t.Errorf("%s has no status of its own", code)
			}
		})
	}
}

func declaredErrorCodes(t *testing.T) []errorCode {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []errorCode
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || spec.Type == nil {
			return true
		}
		if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "errorCode" {
			return true
		}
		for _, v := range spec.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				codes = append(codes, errorCode(s))
			}
		}
		return true
	})
	return codes
}
