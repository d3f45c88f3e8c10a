// Command verify checks coldcheck ledger artefacts with Go's reference
// implementations, golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog,
// which share no code with coldcheck.
//
// It reads one JSON document on stdin:
//
//	{
//	  "verifier_key": "<name>+<hex key id>+<base64 key>",
//	  "signed_note":  "<checkpoint note>",
//	  "entries_b64":  ["<base64 entry 0>", ...],              (optional)
//	  "inclusion":    [{"index", "tree_size", "leaf_hash", "root_hash", "proof"}],
//	  "consistency":  [{"old_size", "old_root", "tree_size", "root_hash", "proof"}],
//	  "earlier_notes": ["<an earlier checkpoint note>", ...]   (optional)
//	}
//
// Hashes are standard base64. It verifies the note signature (note.Open), parses
// the checkpoint (tlog.ParseTree, see below), checks every inclusion proof with
// tlog.CheckRecord and every consistency proof with tlog.CheckTree, and, when
// entries are given, that tlog.RecordHash(entry i) is the leaf hash claimed for
// index i and that the entries' tree hash (tlog.StoredHashes + tlog.TreeHash)
// equals the checkpoint root when there are exactly checkpoint-size entries.
// Each earlier note must verify with the same key and name the same origin;
// two notes of one size must not differ (a fork), a note of the checkpoint's
// size must be the checkpoint's tree; and every smaller one needs a consistency
// proof from its size, which must start from its root: that is how an
// investigator ties a checkpoint kept elsewhere (a printed report) to this one.
//
// It prints {"ok": bool, "checkpoint": {...}, "checked": {...}, "failures": [...]}
// and exits 1 if anything failed (2 for unusable input), naming each failure.
//
// tlog.ParseTree only accepts the Go checksum database's first line
// "go.sum database tree"; a C2SP checkpoint has the log origin there instead.
// So the origin line is checked to be non-empty and then replaced by that
// header before calling tlog.ParseTree, which then parses and validates the
// size and root hash lines exactly as it does for the Go checksum database.
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o verify verify.go
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusionProof struct {
	Index    *int64   `json:"index"`
	TreeSize *int64   `json:"tree_size"`
	LeafHash string   `json:"leaf_hash"`
	RootHash string   `json:"root_hash"`
	Proof    []string `json:"proof"`
}

type consistencyProof struct {
	OldSize  *int64   `json:"old_size"`
	OldRoot  string   `json:"old_root"`
	TreeSize *int64   `json:"tree_size"`
	RootHash string   `json:"root_hash"`
	Proof    []string `json:"proof"`
}

type input struct {
	VerifierKey string             `json:"verifier_key"`
	SignedNote  string             `json:"signed_note"`
	EntriesB64  []string           `json:"entries_b64"`
	Inclusion   []inclusionProof   `json:"inclusion"`
	Consistency []consistencyProof `json:"consistency"`
	Earlier     []string           `json:"earlier_notes"`
}

type checkpointOut struct {
	Origin   string `json:"origin"`
	Size     int64  `json:"size"`
	RootHash string `json:"root_hash"`
}

type checkedOut struct {
	Signature   bool `json:"signature"`
	Entries     int  `json:"entries"`
	Inclusion   int  `json:"inclusion"`
	Consistency int  `json:"consistency"`
	Earlier     int  `json:"earlier"`
}

type output struct {
	OK         bool           `json:"ok"`
	Checkpoint *checkpointOut `json:"checkpoint,omitempty"`
	Checked    checkedOut     `json:"checked"`
	Failures   []string       `json:"failures"`
}

type memHashes []tlog.Hash

func (m *memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("stored hash index %d out of range", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

func emit(out *output, code int) {
	out.OK = code == 0 && len(out.Failures) == 0
	if out.Failures == nil {
		out.Failures = []string{}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	if !out.OK && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func parseProof(p []string) (proof []tlog.Hash, err error) {
	for i, s := range p {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("proof[%d]: %v", i, err)
		}
		proof = append(proof, h)
	}
	return proof, nil
}

// openCheckpoint verifies a signed checkpoint note and parses its body (see the
// package comment about the first line).
func openCheckpoint(signed string, verifiers note.Verifiers) (string, tlog.Tree, error) {
	n, err := note.Open([]byte(signed), verifiers)
	if err != nil {
		return "", tlog.Tree{}, fmt.Errorf("note.Open: %v", err)
	}
	text := n.Text
	nl := strings.IndexByte(text, '\n')
	if nl <= 0 {
		return "", tlog.Tree{}, fmt.Errorf("empty origin line")
	}
	tree, err := tlog.ParseTree([]byte("go.sum database tree\n" + text[nl+1:]))
	if err != nil {
		return "", tlog.Tree{}, fmt.Errorf("tlog.ParseTree: %v", err)
	}
	return text[:nl], tree, nil
}

func main() {
	out := &output{}
	fail := func(format string, args ...interface{}) {
		out.Failures = append(out.Failures, fmt.Sprintf(format, args...))
	}

	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("input: reading stdin: %v", err)
		emit(out, 2)
	}
	var in input
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fail("input: not the expected JSON document: %v", err)
		emit(out, 2)
	}

	// 1. The signature, with the reference note implementation.
	verifier, err := note.NewVerifier(in.VerifierKey)
	if err != nil {
		fail("verifier_key: note.NewVerifier: %v", err)
		emit(out, 1)
	}
	verifiers := note.VerifierList(verifier)
	if _, err := note.Open([]byte(in.SignedNote), verifiers); err != nil {
		fail("signed_note: note.Open: %v", err)
		emit(out, 1)
	}
	out.Checked.Signature = true

	// 2. The checkpoint body, and the earlier checkpoints'.
	origin, tree, err := openCheckpoint(in.SignedNote, verifiers)
	if err != nil {
		fail("checkpoint: %v", err)
		emit(out, 1)
	}
	out.Checkpoint = &checkpointOut{Origin: origin, Size: tree.N, RootHash: tree.Hash.String()}
	earlier := map[int64]tlog.Hash{}
	for i, e := range in.Earlier {
		o, t, err := openCheckpoint(e, verifiers)
		switch {
		case err != nil:
			fail("earlier_notes[%d]: %v", i, err)
		case o != origin:
			fail("earlier_notes[%d]: origin %q is not the checkpoint's %q", i, o, origin)
		case t.N > tree.N:
			fail("earlier_notes[%d]: size %d is beyond the checkpoint's %d", i, t.N, tree.N)
		case t.N == tree.N && t.Hash != tree.Hash:
			fail("earlier_notes[%d]: size %d signed with another root than the checkpoint's (a fork)", i, t.N)
		default:
			if h, seen := earlier[t.N]; seen && h != t.Hash {
				fail("earlier_notes[%d]: size %d signed with two roots (a fork)", i, t.N)
				continue
			}
			earlier[t.N] = t.Hash
			out.Checked.Earlier++
		}
	}

	// 3. Entries: leaf hashes and, for a complete log, the root.
	var leafHashes []tlog.Hash
	for i, e := range in.EntriesB64 {
		b, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			fail("entries_b64[%d]: not base64: %v", i, err)
			continue
		}
		leafHashes = append(leafHashes, tlog.RecordHash(b))
	}
	if len(in.EntriesB64) > 0 && len(leafHashes) == len(in.EntriesB64) {
		out.Checked.Entries = len(leafHashes)
		if int64(len(leafHashes)) == tree.N {
			var store memHashes
			for i, h := range leafHashes {
				hs, err := tlog.StoredHashesForRecordHash(int64(i), h, &store)
				if err != nil {
					fail("entries: tlog.StoredHashesForRecordHash(%d): %v", i, err)
					break
				}
				store = append(store, hs...)
			}
			th, err := tlog.TreeHash(tree.N, &store)
			if err != nil {
				fail("entries: tlog.TreeHash: %v", err)
			} else if th != tree.Hash {
				fail("entries: tree hash of the %d entries is %v, checkpoint says %v", tree.N, th, tree.Hash)
			}
		}
	}

	// 4. Inclusion proofs.
	for i, p := range in.Inclusion {
		if p.Index == nil || p.TreeSize == nil {
			fail("inclusion[%d]: missing index or tree_size", i)
			continue
		}
		leaf, err1 := tlog.ParseHash(p.LeafHash)
		root, err2 := tlog.ParseHash(p.RootHash)
		proof, err3 := parseProof(p.Proof)
		if err1 != nil || err2 != nil || err3 != nil {
			fail("inclusion[%d] (index %d, size %d): malformed hash: %v %v %v", i, *p.Index, *p.TreeSize, err1, err2, err3)
			continue
		}
		if *p.Index >= 0 && *p.Index < int64(len(leafHashes)) && leafHashes[*p.Index] != leaf {
			fail("inclusion[%d]: leaf_hash is not tlog.RecordHash(entries_b64[%d])", i, *p.Index)
		}
		if *p.TreeSize == tree.N && root != tree.Hash {
			fail("inclusion[%d]: root_hash differs from the signed checkpoint root for size %d", i, tree.N)
		}
		if err := tlog.CheckRecord(proof, *p.TreeSize, root, *p.Index, leaf); err != nil {
			fail("inclusion[%d] (index %d, size %d): tlog.CheckRecord: %v", i, *p.Index, *p.TreeSize, err)
			continue
		}
		out.Checked.Inclusion++
	}

	// 5. Consistency proofs, and one to the checkpoint from every earlier note.
	proven := map[int64]bool{}
	for i, p := range in.Consistency {
		if p.OldSize == nil || p.TreeSize == nil {
			fail("consistency[%d]: missing old_size or tree_size", i)
			continue
		}
		oldRoot, err1 := tlog.ParseHash(p.OldRoot)
		root, err2 := tlog.ParseHash(p.RootHash)
		proof, err3 := parseProof(p.Proof)
		if err1 != nil || err2 != nil || err3 != nil {
			fail("consistency[%d] (%d -> %d): malformed hash: %v %v %v", i, *p.OldSize, *p.TreeSize, err1, err2, err3)
			continue
		}
		if *p.TreeSize == tree.N && root != tree.Hash {
			fail("consistency[%d]: root_hash differs from the signed checkpoint root for size %d", i, tree.N)
		}
		if h, ok := earlier[*p.OldSize]; ok && h != oldRoot {
			fail("consistency[%d]: old_root differs from the earlier signed checkpoint of size %d", i, *p.OldSize)
		}
		if err := tlog.CheckTree(proof, *p.TreeSize, root, *p.OldSize, oldRoot); err != nil {
			fail("consistency[%d] (%d -> %d): tlog.CheckTree: %v", i, *p.OldSize, *p.TreeSize, err)
			continue
		}
		if *p.TreeSize == tree.N && root == tree.Hash {
			proven[*p.OldSize] = true
		}
		out.Checked.Consistency++
	}
	for size := range earlier {
		if size < tree.N && !proven[size] {
			fail("earlier_notes: no consistency proof from size %d to the checkpoint", size)
		}
	}

	emit(out, 0)
}
