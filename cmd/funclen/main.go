// Command funclen lists the functions and methods longer than a number of lines
// in the Go files of the directories it is given (test files left out), and
// exits with status 1 when it lists any: `make vet` runs it on the packages that
// hold the care protocol's decisions, so that a new rule is a new function
// rather than lines in the middle of the longest one.
//
//	go run ./cmd/funclen -over 80 shared/protocol shared/classify
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// long is a function over the limit.
type long struct {
	pos   token.Position
	name  string
	lines int
}

func main() {
	over := flag.Int("over", 80, "list the functions longer than this many lines")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: funclen [-over N] dir...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	found, err := scan(*over, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(2)
	}
	report(os.Stdout, found, *over)
	if len(found) > 0 {
		os.Exit(1)
	}
}

// scan returns the functions longer than over lines in the non-test Go files of
// dirs (not their subdirectories), longest first.
func scan(over int, dirs []string) ([]long, error) {
	var found []long
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s has no Go files", dir)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
				if n > over {
					found = append(found, long{pos: fset.Position(fd.Pos()), name: funcName(fd), lines: n})
				}
			}
		}
	}
	slices.SortStableFunc(found, func(a, b long) int { return b.lines - a.lines })
	return found, nil
}

// funcName is fd's name, with its receiver's type for a method.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	star := ""
	if s, ok := t.(*ast.StarExpr); ok {
		t, star = s.X, "*"
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return "(" + star + id.Name + ")." + fd.Name.Name
	}
	return fd.Name.Name
}

func report(w io.Writer, found []long, over int) {
	for _, l := range found {
		fmt.Fprintf(w, "%d %s %s:%d\n", l.lines, l.name, l.pos.Filename, l.pos.Line)
	}
	if len(found) > 0 {
		fmt.Fprintf(w, "funclen: %d functions over %d lines: split them at their sections\n", len(found), over)
	}
}
