package cases

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// yamlLine picks the line out of a yaml.v3 syntax error ("yaml: line 3: …").
var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// ParseYAML reads a case YAML file: a top-level map with one key, "cases",
// holding a list of maps whose keys are the case-CSV column names, e.g.
//
//	cases:
//	  - case_number: "12345678"
//	    principal: "1234.56"   # or 1234.56: numbers are read from their text
//	    …
//
// The payment keys may be left out. Values are read from their literal text
// (never through float64, so 0.1 stays 10 grosze). Problems are reported as
// by ParseCSV, with the line of the offending value.
func ParseYAML(name string, r io.Reader, opt Options) ([]Case, error) {
	s := opt.settings()
	col := &collector{file: name, max: s.maxProblems}
	dec := yaml.NewDecoder(skipBOM(r))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			col.add(0, "", "file is empty, want a list under \"cases:\"")
			return nil, col.err()
		}
		yamlProblem(col, err)
		return nil, col.err()
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		col.add(extra.Line, "", "more than one YAML document, want one")
		return nil, col.err()
	case !errors.Is(err, io.EOF):
		yamlProblem(col, err)
		return nil, col.err()
	}

	list := casesList(&doc, col)
	if list == nil {
		return nil, col.err()
	}
	var (
		out  []Case
		seen = make(map[string]int)
	)
	for _, item := range list.Content {
		item = deref(item)
		rw, ok := yamlRow(item, col)
		if !ok {
			continue
		}
		c, ok := rw.build(s, col)
		if !ok {
			continue
		}
		line := rw.lines[colCaseNumber]
		if first, dup := seen[c.Number]; dup {
			col.add(line, columns[colCaseNumber], fmt.Sprintf("%q is already on line %d", c.Number, first))
			continue
		}
		seen[c.Number] = line
		out = append(out, c)
	}
	if len(out) == 0 && !col.failed() {
		col.add(list.Line, "cases", "the list is empty")
	}
	if err := col.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// casesList finds the "cases:" sequence of the document, or reports why not.
func casesList(doc *yaml.Node, col *collector) *yaml.Node {
	if len(doc.Content) == 0 {
		col.add(0, "", "file is empty, want a list under \"cases:\"")
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		col.add(root.Line, "", "want a map with a \"cases:\" list at the top")
		return nil
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		switch {
		case k.Value != "cases":
			col.add(k.Line, "", fmt.Sprintf("unknown key %q, want only \"cases\"", k.Value))
		case list != nil:
			col.add(k.Line, "cases", fmt.Sprintf("repeated (first on line %d)", list.Line))
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
			col.add(k.Line, "cases", "the list is empty")
		case v.Kind != yaml.SequenceNode:
			col.add(v.Line, "cases", "want a list of cases")
		default:
			list = v
		}
	}
	if list == nil && !col.failed() {
		col.add(root.Line, "", "missing \"cases:\" list")
	}
	if col.failed() {
		return nil
	}
	return list
}

// yamlRow collects one case map's values as text with their lines. Keys
// left out count as empty and are placed at the map's line.
func yamlRow(item *yaml.Node, col *collector) (rw row, ok bool) {
	if item.Kind != yaml.MappingNode {
		col.add(item.Line, "", "want a map of case fields")
		return rw, false
	}
	ok = true
	var set [numColumns]bool
	for f := range rw.lines {
		rw.lines[f] = item.Line
	}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], deref(item.Content[i+1])
		f, known := columnIndex(k.Value)
		switch {
		case k.Kind != yaml.ScalarNode || !known:
			col.add(k.Line, "", fmt.Sprintf("unknown field %q", k.Value))
			ok = false
			continue
		case set[f]:
			col.add(k.Line, k.Value, "repeated (first on line "+strconv.Itoa(rw.lines[f])+")")
			ok = false
			continue
		}
		set[f], rw.lines[f] = true, v.Line
		switch {
		case v.Kind != yaml.ScalarNode:
			col.add(v.Line, k.Value, "want a single value")
			ok = false
		case v.ShortTag() != "!!null":
			// The literal text: 0.1 stays "0.1", 00123 stays "00123".
			rw.vals[f] = v.Value
		}
	}
	return rw, ok
}

// deref follows an alias (*anchor) to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// yamlProblem reports a YAML syntax error at its line when it names one.
func yamlProblem(col *collector, err error) {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		col.add(line, "", m[2])
		return
	}
	col.add(0, "", err.Error())
}
