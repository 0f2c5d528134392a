"""Tests of the embedded sample episode generator."""
