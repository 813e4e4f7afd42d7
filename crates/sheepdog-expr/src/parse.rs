//! The parser: tokens to an untyped syntax tree. Recursive descent with CEL's precedence; a
//! syntax error becomes a diagnostic and an `Error` node so parsing goes on. Nesting depth is
//! capped so no input can overflow the stack here or in the passes after.

use crate::lex::{Tok, Token};
use crate::{Diags, MAX_DEPTH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    /// A dotted name, resolved to one slot by the checker.
    Name(String),
    List(Vec<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a && b && c`, flattened so long chains stay shallow.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `f(args)` (no receiver) or `recv.f(args)`.
    Call {
        name: String,
        recv: Option<Box<Expr>>,
        args: Vec<Expr>,
    },
    /// Already reported.
    Error,
}

#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub kind: Kind,
    /// Byte offset diagnostics about this node point at (an operator's own position for
    /// binary nodes).
    pub at: usize,
    /// Byte offset where the node's text starts.
    pub start: usize,
    /// Height of the tree under this node (a leaf is 1).
    pub height: usize,
}

/// Parses the whole token stream. The flag is false when tokens were left over: the tree is
/// then only a prefix of the source, still worth checking for other mistakes.
pub(crate) fn parse(tokens: &[Token], diags: &mut Diags) -> (Expr, bool) {
    let mut p = Parser { tokens, pos: 0, diags, depth: 0, too_deep: false };
    let expr = p.expr();
    let complete = p.too_deep || p.peek() == &Tok::Eof;
    if !complete {
        let t = &p.tokens[p.pos];
        let msg = format!("unexpected {}", t.tok.describe());
        p.diags.push(t.start, msg);
    }
    (expr, complete)
}

struct Parser<'t, 'd> {
    tokens: &'t [Token],
    pos: usize,
    diags: &'d mut Diags,
    depth: usize,
    /// Set once the depth cap is hit: everything after is skipped.
    too_deep: bool,
}

fn node(kind: Kind, at: usize, start: usize, children: &[&Expr]) -> Expr {
    let height = 1 + children.iter().map(|c| c.height).max().unwrap_or(0);
    Expr { kind, at, start, height }
}

impl Parser<'_, '_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn here(&self) -> usize {
        self.tokens[self.pos].start
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) {
        if !self.eat(tok) {
            let msg = format!("expected '{}', found {}", tok.symbol(), self.peek().describe());
            let at = self.here();
            self.diags.push(at, msg);
        }
    }

    fn error_node(&self) -> Expr {
        let at = self.here();
        Expr { kind: Kind::Error, at, start: at, height: 1 }
    }

    /// Checks a freshly built node against the depth cap.
    fn checked(&mut self, e: Expr) -> Expr {
        if e.height > MAX_DEPTH && !self.too_deep {
            self.too_deep = true;
            self.diags.push(e.start, format!("expression nested too deeply (limit {MAX_DEPTH})"));
            self.diags.close();
        }
        if self.too_deep {
            return Expr { kind: Kind::Error, ..e };
        }
        e
    }

    fn expr(&mut self) -> Expr {
        self.depth += 1;
        if self.depth > MAX_DEPTH && !self.too_deep {
            self.too_deep = true;
            let at = self.here();
            self.diags.push(at, format!("expression nested too deeply (limit {MAX_DEPTH})"));
            self.diags.close();
        }
        let e = if self.too_deep {
            // Consume the rest so nothing else gets reported.
            self.pos = self.tokens.len() - 1;
            self.error_node()
        } else {
            self.ternary()
        };
        self.depth -= 1;
        e
    }

    fn ternary(&mut self) -> Expr {
        let cond = self.or();
        if self.peek() != &Tok::Question {
            return cond;
        }
        let at = self.bump().start;
        let then = self.or();
        self.expect(&Tok::Colon);
        let other = self.expr();
        let start = cond.start;
        let e = node(Kind::Error, at, start, &[&cond, &then, &other]);
        self.checked(Expr { kind: Kind::Cond(Box::new(cond), Box::new(then), Box::new(other)), ..e })
    }

    fn or(&mut self) -> Expr {
        let first = self.and();
        if self.peek() != &Tok::OrOr {
            return first;
        }
        let at = self.here();
        let mut items = vec![first];
        while self.eat(&Tok::OrOr) {
            items.push(self.and());
        }
        let e = node(Kind::Error, at, items[0].start, &items.iter().collect::<Vec<_>>());
        self.checked(Expr { kind: Kind::Or(items), ..e })
    }

    fn and(&mut self) -> Expr {
        let first = self.relation();
        if self.peek() != &Tok::AndAnd {
            return first;
        }
        let at = self.here();
        let mut items = vec![first];
        while self.eat(&Tok::AndAnd) {
            items.push(self.relation());
        }
        let e = node(Kind::Error, at, items[0].start, &items.iter().collect::<Vec<_>>());
        self.checked(Expr { kind: Kind::And(items), ..e })
    }

    fn binary_loop(&mut self, ops: &[(Tok, BinOp)], next: fn(&mut Self) -> Expr) -> Expr {
        let mut lhs = next(self);
        loop {
            let Some(op) = ops.iter().find(|(t, _)| t == self.peek()).map(|(_, op)| *op) else {
                return lhs;
            };
            let at = self.bump().start;
            let rhs = next(self);
            let e = node(Kind::Error, at, lhs.start, &[&lhs, &rhs]);
            lhs = self.checked(Expr { kind: Kind::Binary(op, Box::new(lhs), Box::new(rhs)), ..e });
            if self.too_deep {
                return lhs;
            }
        }
    }

    fn relation(&mut self) -> Expr {
        const OPS: [(Tok, BinOp); 7] = [
            (Tok::EqEq, BinOp::Eq),
            (Tok::Ne, BinOp::Ne),
            (Tok::Lt, BinOp::Lt),
            (Tok::Le, BinOp::Le),
            (Tok::Gt, BinOp::Gt),
            (Tok::Ge, BinOp::Ge),
            (Tok::In, BinOp::In),
        ];
        self.binary_loop(&OPS, Self::addition)
    }

    fn addition(&mut self) -> Expr {
        const OPS: [(Tok, BinOp); 2] = [(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)];
        self.binary_loop(&OPS, Self::multiplication)
    }

    fn multiplication(&mut self) -> Expr {
        const OPS: [(Tok, BinOp); 3] = [(Tok::Star, BinOp::Mul), (Tok::Slash, BinOp::Div), (Tok::Percent, BinOp::Rem)];
        self.binary_loop(&OPS, Self::unary)
    }

    fn unary(&mut self) -> Expr {
        match self.peek() {
            Tok::Bang => {
                let at = self.bump().start;
                let inner = self.unary_nested();
                let e = node(Kind::Error, at, at, &[&inner]);
                self.checked(Expr { kind: Kind::Not(Box::new(inner)), ..e })
            }
            Tok::Minus => {
                let at = self.bump().start;
                // `-9223372036854775808` is the one literal that only exists negated.
                if let Tok::Int(v) = *self.peek() {
                    if v == 1 << 63 && !matches!(self.tokens.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Dot)) {
                        self.bump();
                        return node(Kind::Int(i64::MIN), at, at, &[]);
                    }
                }
                let inner = self.unary_nested();
                let e = node(Kind::Error, at, at, &[&inner]);
                self.checked(Expr { kind: Kind::Neg(Box::new(inner)), ..e })
            }
            _ => self.member(),
        }
    }

    /// `!!!!x` recurses once per operator: count it against the depth cap.
    fn unary_nested(&mut self) -> Expr {
        self.depth += 1;
        let e = if self.depth > MAX_DEPTH { self.expr() } else { self.unary() };
        self.depth -= 1;
        e
    }

    fn member(&mut self) -> Expr {
        // `(a).b` is not the name `a.b`.
        let bare_name = matches!(self.peek(), Tok::Ident(_));
        let mut e = self.primary();
        loop {
            match self.peek() {
                Tok::Dot => {
                    let dot = self.bump().start;
                    let Tok::Ident(field) = self.peek().clone() else {
                        let msg = format!("expected a name after '.', found {}", self.peek().describe());
                        let at = self.here();
                        self.diags.push(at, msg);
                        return self.error_node();
                    };
                    let field_at = self.bump().start;
                    if self.peek() == &Tok::LParen {
                        self.bump();
                        let args = self.args(&Tok::RParen);
                        let mut children: Vec<&Expr> = args.iter().collect();
                        children.push(&e);
                        let n = node(Kind::Error, field_at, e.start, &children);
                        e = self.checked(Expr { kind: Kind::Call { name: field, recv: Some(Box::new(e)), args }, ..n });
                    } else if let (true, Kind::Name(name)) = (bare_name, &mut e.kind) {
                        name.push('.');
                        name.push_str(&field);
                    } else if !matches!(e.kind, Kind::Error) {
                        self.diags.push(dot, format!("field '{field}' can only be selected from a name"));
                        e = Expr { kind: Kind::Error, ..e };
                    }
                }
                Tok::LBracket => {
                    let at = self.bump().start;
                    let index = self.expr();
                    self.expect(&Tok::RBracket);
                    // `attributes["x"]` is the slot `attributes.x`.
                    match (&mut e.kind, &index.kind) {
                        (Kind::Name(name), Kind::Str(key)) if bare_name => {
                            name.push('.');
                            name.push_str(key);
                        }
                        (Kind::Error, _) | (_, Kind::Error) => e = Expr { kind: Kind::Error, ..e },
                        _ => {
                            self.diags.push(at, "indexing needs a name and a string literal key".into());
                            e = Expr { kind: Kind::Error, ..e };
                        }
                    }
                }
                _ => return e,
            }
            if self.too_deep {
                return e;
            }
        }
    }

    /// Comma-separated expressions up to `close` (already past the opener).
    fn args(&mut self, close: &Tok) -> Vec<Expr> {
        let mut args = Vec::new();
        if self.eat(close) {
            return args;
        }
        loop {
            args.push(self.expr());
            if self.too_deep {
                return args;
            }
            if self.eat(&Tok::Comma) {
                // A trailing comma is allowed.
                if self.eat(close) {
                    return args;
                }
                continue;
            }
            self.expect(close);
            return args;
        }
    }

    fn primary(&mut self) -> Expr {
        let start = self.here();
        let leaf = |kind| node(kind, start, start, &[]);
        match self.peek().clone() {
            Tok::Int(v) => {
                self.bump();
                match i64::try_from(v) {
                    Ok(v) => leaf(Kind::Int(v)),
                    Err(_) => {
                        self.diags.push(start, "integer literal out of range".into());
                        leaf(Kind::Error)
                    }
                }
            }
            Tok::Float(v) => {
                self.bump();
                leaf(Kind::Float(v))
            }
            Tok::Str(s) => {
                self.bump();
                leaf(Kind::Str(s))
            }
            Tok::True => {
                self.bump();
                leaf(Kind::Bool(true))
            }
            Tok::False => {
                self.bump();
                leaf(Kind::Bool(false))
            }
            Tok::Null => {
                self.bump();
                leaf(Kind::Null)
            }
            Tok::Ident(name) => {
                self.bump();
                if self.eat(&Tok::LParen) {
                    let args = self.args(&Tok::RParen);
                    let n = node(Kind::Error, start, start, &args.iter().collect::<Vec<_>>());
                    self.checked(Expr { kind: Kind::Call { name, recv: None, args }, ..n })
                } else {
                    leaf(Kind::Name(name))
                }
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expr();
                self.expect(&Tok::RParen);
                inner
            }
            Tok::LBracket => {
                self.bump();
                let items = self.args(&Tok::RBracket);
                let n = node(Kind::Error, start, start, &items.iter().collect::<Vec<_>>());
                self.checked(Expr { kind: Kind::List(items), ..n })
            }
            Tok::Error => {
                // Reported by the lexer.
                self.bump();
                leaf(Kind::Error)
            }
            other => {
                self.diags.push(start, format!("expected an expression, found {}", other.describe()));
                // Stray dots are skipped; operators and closers are left for the callers.
                if other == Tok::Dot {
                    self.bump();
                }
                leaf(Kind::Error)
            }
        }
    }
}
