"""Scenario scripts: shell-syntax files that simnet lexes (never runs through a shell)."""

from simnet.script.expect import Expectation, ScriptError
from simnet.script.lexer import Command, lex

__all__ = ["Command", "Expectation", "ScriptError", "lex"]
