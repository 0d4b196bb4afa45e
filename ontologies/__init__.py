"""Data files: the ontology, SHACL shapes, gazetteer, relation cues, assumptions, corpus."""
