package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	dir := t.TempDir()
	src := `package p

func short() {
	_ = 1
}

type T struct{}

func (t *T) long() {
` + strings.Repeat("\t_ = 1\n", 10) + `}

func generic[E any]() {}
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	test := "package p\n\nfunc TestLong() {\n" + strings.Repeat("\t_ = 1\n", 50) + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		over int
		want []string
	}{
		{over: 20, want: nil},
		{over: 12, want: nil},
		{over: 11, want: []string{"(*T).long:12"}},
		{over: 2, want: []string{"(*T).long:12", "short:3"}},
	}
	for _, tt := range tests {
		found, err := scan(tt.over, []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range found {
			got = append(got, l.name+":"+strconv.Itoa(l.lines))
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("over %d: %v, want %v", tt.over, got, tt.want)
		}
	}
	if _, err := scan(80, []string{t.TempDir()}); err == nil {
		t.Error("a directory with no Go files was accepted (a mistyped path would pass silently)")
	}
}
