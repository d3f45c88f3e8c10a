// Command vectors prints the ledger known-answer file (tests/data/ledger-vectors.json)
// computed with Go's golang.org/x/mod/sumdb/tlog and sumdb/note, which share no
// code with coldcheck. The Python tests read the committed file; a test rebuilds
// this program when Go is present and checks that it still prints the same bytes.
//
// Regenerate: bash tests/interop/regenerate-vectors
// Build by hand: GO111MODULE=off GOPATH=/usr/share/gocode go build -o vectors .
//
// What it computes, for the entries {"seq":i,"type":"test.entry"}, i = 0..129:
//   - every leaf hash (tlog.RecordHash);
//   - the tree hash at a chosen set of sizes (tlog.TreeHash over tlog.StoredHashes);
//   - inclusion proofs (tlog.ProveRecord) for indexes 0, 1, n/2, n-2, n-1 of
//     chosen sizes n, keeping those inside the tree (repeats included: they
//     exercise the same answer twice);
//   - consistency proofs (tlog.ProveTree) for chosen (old, new) size pairs;
//   - a C2SP checkpoint of the whole tree signed (note.Sign) with an Ed25519 key
//     made from a fixed seed (Ed25519 signing is deterministic).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	entries  = 130
	keyName  = "coldcheck.test/productions/vectors"
	seedHex  = "27c19c0426894ecd05b31b96238db4ddc24c15f2a535afbafb71db13848723e1"
	aboutTxt = "Computed with Go golang.org/x/mod/sumdb/tlog and sumdb/note (RFC 6962/9162 " +
		"hashing, C2SP signed-note). Entry i is the UTF-8 bytes of the 'entry' string. " +
		"Hashes are standard base64."
)

var (
	rootSizes      = []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 127, 128, 129, 130}
	inclusionSizes = []int64{1, 2, 3, 7, 8, 9, 17, 100, 130}
	consistency    = [][2]int64{{1, 1}, {1, 2}, {1, 8}, {2, 5}, {3, 7}, {4, 8}, {6, 8}, {7, 130},
		{8, 9}, {16, 17}, {31, 32}, {64, 100}, {100, 130}, {129, 130}}
)

type checkpoint struct {
	SeedHex     string `json:"ed25519_seed_hex"`
	KeyName     string `json:"key_name"`
	SignedNote  string `json:"signed_note"`
	VerifierKey string `json:"verifier_key"`
}

type leaf struct {
	Index    int64  `json:"index"`
	Entry    string `json:"entry"`
	LeafHash string `json:"leaf_hash"`
}

type root struct {
	TreeSize int64  `json:"tree_size"`
	RootHash string `json:"root_hash"`
}

type inclusion struct {
	Index    int64    `json:"index"`
	TreeSize int64    `json:"tree_size"`
	RootHash string   `json:"root_hash"`
	Proof    []string `json:"proof"`
}

type consistencyProof struct {
	OldSize  int64    `json:"old_size"`
	OldRoot  string   `json:"old_root"`
	TreeSize int64    `json:"tree_size"`
	RootHash string   `json:"root_hash"`
	Proof    []string `json:"proof"`
}

type document struct {
	About       string             `json:"about"`
	Checkpoint  checkpoint         `json:"checkpoint"`
	Consistency []consistencyProof `json:"consistency"`
	Inclusion   []inclusion        `json:"inclusion"`
	Leaves      []leaf             `json:"leaves"`
	Roots       []root             `json:"roots"`
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func b64s(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

func entry(i int64) string { return fmt.Sprintf(`{"seq":%d,"type":"test.entry"}`, i) }

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "vectors:", err)
		os.Exit(1)
	}
}

func main() {
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d not written yet", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	doc := document{About: aboutTxt}
	for i := int64(0); i < entries; i++ {
		hashes, err := tlog.StoredHashes(i, []byte(entry(i)), reader)
		must(err)
		stored = append(stored, hashes...)
		doc.Leaves = append(doc.Leaves, leaf{i, entry(i), b64(tlog.RecordHash([]byte(entry(i))))})
	}
	treeHash := func(n int64) tlog.Hash {
		h, err := tlog.TreeHash(n, reader)
		must(err)
		return h
	}
	for _, n := range rootSizes {
		doc.Roots = append(doc.Roots, root{n, b64(treeHash(n))})
	}
	for _, n := range inclusionSizes {
		for _, i := range []int64{0, 1, n / 2, n - 2, n - 1} {
			if i < 0 || i >= n {
				continue
			}
			proof, err := tlog.ProveRecord(n, i, reader)
			must(err)
			doc.Inclusion = append(doc.Inclusion, inclusion{i, n, b64(treeHash(n)), b64s(proof)})
		}
	}
	for _, pair := range consistency {
		proof, err := tlog.ProveTree(pair[1], pair[0], reader)
		must(err)
		doc.Consistency = append(doc.Consistency, consistencyProof{
			pair[0], b64(treeHash(pair[0])), pair[1], b64(treeHash(pair[1])), b64s(proof)})
	}

	seed, err := hex.DecodeString(seedHex)
	must(err)
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), keyName)
	must(err)
	signer, err := note.NewSigner(skey)
	must(err)
	text := fmt.Sprintf("%s\n%d\n%s\n", keyName, entries, b64(treeHash(entries)))
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	must(err)
	doc.Checkpoint = checkpoint{seedHex, keyName, string(signed), vkey}

	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	must(enc.Encode(doc))
	_, err = os.Stdout.Write(out.Bytes())
	must(err)
}
