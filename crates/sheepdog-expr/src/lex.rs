//! The lexer: source text to tokens with byte spans; lexical errors become diagnostics and an
//! `Error` token so the parser can go on and report more.

use crate::Diags;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Unsigned: `9223372036854775808` is only valid right after a unary minus.
    Int(u64),
    Float(f64),
    Str(String),
    Ident(String),
    True,
    False,
    Null,
    In,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Question,
    Colon,
    OrOr,
    AndAnd,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    /// A lexical error already reported.
    Error,
    Eof,
}

impl Tok {
    /// How a message names the token.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Int(_) | Tok::Float(_) => "number".into(),
            Tok::Str(_) => "string literal".into(),
            Tok::Ident(name) => format!("identifier '{name}'"),
            Tok::Eof => "end of input".into(),
            Tok::Error => "invalid token".into(),
            other => format!("'{}'", other.symbol()),
        }
    }

    pub(crate) fn symbol(&self) -> &'static str {
        match self {
            Tok::True => "true",
            Tok::False => "false",
            Tok::Null => "null",
            Tok::In => "in",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Dot => ".",
            Tok::Comma => ",",
            Tok::Question => "?",
            Tok::Colon => ":",
            Tok::OrOr => "||",
            Tok::AndAnd => "&&",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Bang => "!",
            _ => "",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
}

pub(crate) fn lex(src: &str, diags: &mut Diags) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let single = |t: Tok| (t, 1);
        let (tok, len) = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => single(Tok::Dot),
            b',' => single(Tok::Comma),
            b'?' => single(Tok::Question),
            b':' => single(Tok::Colon),
            b'+' => single(Tok::Plus),
            b'-' => single(Tok::Minus),
            b'*' => single(Tok::Star),
            b'/' => single(Tok::Slash),
            b'%' => single(Tok::Percent),
            b'|' | b'&' | b'=' => {
                if bytes.get(i + 1) == Some(&c) {
                    (
                        match c {
                            b'|' => Tok::OrOr,
                            b'&' => Tok::AndAnd,
                            _ => Tok::EqEq,
                        },
                        2,
                    )
                } else {
                    let c = c as char;
                    diags.push(start, format!("unexpected '{c}' (did you mean '{c}{c}'?)"));
                    single(Tok::Error)
                }
            }
            b'!' | b'<' | b'>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    (
                        match c {
                            b'!' => Tok::Ne,
                            b'<' => Tok::Le,
                            _ => Tok::Ge,
                        },
                        2,
                    )
                } else {
                    single(match c {
                        b'!' => Tok::Bang,
                        b'<' => Tok::Lt,
                        _ => Tok::Gt,
                    })
                }
            }
            b'"' | b'\'' => lex_string(src, i, diags),
            b'0'..=b'9' | b'.' => lex_number(src, i, diags),
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let mut j = i + 1;
                while j < bytes.len() && (bytes[j] == b'_' || bytes[j].is_ascii_alphanumeric()) {
                    j += 1;
                }
                let word = &src[i..j];
                let tok = match word {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" => Tok::Null,
                    "in" => Tok::In,
                    _ => Tok::Ident(word.to_owned()),
                };
                (tok, j - i)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                diags.push(start, format!("unexpected character '{}'", ch.escape_debug()));
                (Tok::Error, ch.len_utf8())
            }
        };
        i += len;
        out.push(Token { tok, start });
    }
    out.push(Token { tok: Tok::Eof, start: src.len() });
    out
}

/// A quoted string starting at `start`; returns the token and its length in bytes.
fn lex_string(src: &str, start: usize, diags: &mut Diags) -> (Tok, usize) {
    let quote = src.as_bytes()[start] as char;
    let mut value = String::new();
    let mut chars = src[start + 1..].char_indices();
    let mut ok = true;
    while let Some((off, c)) = chars.next() {
        let at = start + 1 + off;
        match c {
            c if c == quote => {
                let len = at + 1 - start;
                return (if ok { Tok::Str(value) } else { Tok::Error }, len);
            }
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, '"')) => value.push('"'),
                Some((_, '\'')) => value.push('\''),
                Some((_, '\n')) | None => break,
                Some((_, other)) => {
                    diags.push(at, format!("unknown escape '\\{}'", other.escape_debug()));
                    ok = false;
                }
            },
            c => value.push(c),
        }
    }
    diags.push(start, "unterminated string".into());
    // The rest of the line belongs to the broken string.
    let rest = &src[start..];
    (Tok::Error, rest.find('\n').unwrap_or(rest.len()))
}

fn lex_number(src: &str, start: usize, diags: &mut Diags) -> (Tok, usize) {
    let bytes = src.as_bytes();
    let digits = |mut j: usize| {
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let mut j = digits(start);
    let mut float = false;
    if j < bytes.len() && bytes[j] == b'.' && bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
        float = true;
        j = digits(j + 1);
    }
    if j < bytes.len() && (bytes[j] == b'e' || bytes[j] == b'E') {
        let mut k = j + 1;
        if k < bytes.len() && (bytes[k] == b'+' || bytes[k] == b'-') {
            k += 1;
        }
        if k < bytes.len() && bytes[k].is_ascii_digit() {
            float = true;
            j = digits(k);
        }
    }
    // `12abc` is one bad token, not a number followed by a name.
    if j < bytes.len() && (bytes[j] == b'_' || bytes[j].is_ascii_alphabetic()) {
        while j < bytes.len() && (bytes[j] == b'_' || bytes[j].is_ascii_alphanumeric()) {
            j += 1;
        }
        diags.push(start, format!("invalid number '{}'", &src[start..j]));
        return (Tok::Error, j - start);
    }
    let text = &src[start..j];
    let tok = if float {
        match text.parse::<f64>() {
            Ok(v) => Tok::Float(v),
            Err(_) => {
                diags.push(start, format!("invalid number '{text}'"));
                Tok::Error
            }
        }
    } else {
        match text.parse::<u64>() {
            Ok(v) => Tok::Int(v),
            Err(_) => {
                diags.push(start, "integer literal out of range".into());
                Tok::Error
            }
        }
    };
    (tok, j - start)
}
