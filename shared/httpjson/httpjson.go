// Package httpjson writes Pajarito's JSON HTTP responses, errors included, in the one
// shape every route uses: {"error":{"code":"…","message":"…"}}.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Error is the body of every error response.
type Error struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code and a human message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Write writes v as JSON with status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes an Error with status.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	Write(w, status, Error{ErrorDetail{Code: code, Message: message}})
}
