package xfake

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// keepRecord is one line of a Keep file: a post, a user, a DM or an X Chat key
// registration the fake holds.
type keepRecord struct {
	Post *Post `json:"post,omitempty"`
	User *User `json:"user,omitempty"`
	DM   *DM   `json:"dm,omitempty"`
	// PublicKey is an X Chat key registration (publickeys.go).
	PublicKey *PublicKey `json:"public_key,omitempty"`
	// Chat is an X Chat key change or message (chat.go).
	Chat *chatRecord `json:"chat_event,omitempty"`
}

// Keep makes the fake keep the posts, users, DMs, X Chat keys and X Chat events
// (key changes and messages, not their deliveries) it holds in the file at path,
// as X keeps them across the local system's restarts: what the file holds is
// loaded now, and every one added later is appended to it (one JSON line each; a
// line cut short by a crash is ignored). The local system calls it with its data
// folder, so that replies to posts of an earlier run still find them.
func (s *Server) Keep(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("xfake: keep: %w", err)
	}
	var posts []Post
	var users []User
	var dms []DM
	var keys []PublicKey
	var chats []chatRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var r keepRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue // a torn line
		}
		if r.Post != nil {
			posts = append(posts, *r.Post)
		}
		if r.User != nil {
			users = append(users, *r.User)
		}
		if r.DM != nil {
			dms = append(dms, *r.DM)
		}
		if r.PublicKey != nil {
			keys = append(keys, *r.PublicKey)
		}
		if r.Chat != nil {
			chats = append(chats, *r.Chat)
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return fmt.Errorf("xfake: keep %s: %w", path, err)
	}
	s.SetUser(users...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range posts {
		if _, ok := parseID(p.ID); ok {
			s.addLocked(p)
		}
	}
	for _, dm := range dms {
		if validDM(dm) {
			s.addDMLocked(dm)
		}
	}
	for _, k := range keys {
		if _, ok := parseID(k.UserID); ok {
			s.addPublicKeyLocked(k)
		}
	}
	for _, c := range chats {
		if c.ConversationID != "" && c.Event != "" {
			s.storeChatLocked(c)
		}
	}
	s.keep = json.NewEncoder(f)
	s.keepFile = f
	return nil
}

// kept appends r to the Keep file, if any; s.mu is held.
func (s *Server) kept(r keepRecord) {
	if s.keep == nil {
		return
	}
	if err := s.keep.Encode(r); err != nil {
		s.keepErr = errors.Join(s.keepErr, err)
	}
}
