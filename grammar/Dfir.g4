// The DFIR text language (see docs/language.md).
//
// This grammar only recognises structure. Everything a user can get wrong
// beyond the token level is checked in frontend/ with a precise diagnostic:
// keyword-like identifiers (`of`), adjacency of `>` `>` in shifts, escape
// sequences, literal ranges, duplicated channel options, and so on. The lexer
// never fails: unknown characters, unterminated strings and unterminated
// comments become tokens that the parser reports as one clear error each.
grammar Dfir;

@lexer::members {
  /// Consumes the rest of a block comment after its `/*`: up to the `*/`
  /// that closes it (nested pairs counted) or the end of the input. Goes
  /// through the simulator so that line and column stay right.
  void blockCommentBody() {
    auto *sim = getInterpreter<antlr4::atn::LexerATNSimulator>();
    size_t depth = 1;
    while (depth > 0 && _input->LA(1) != antlr4::Token::EOF) {
      size_t c = _input->LA(1), next = _input->LA(2);
      if ((c == '/' && next == '*') || (c == '*' && next == '/')) {
        depth = c == '/' ? depth + 1 : depth - 1;
        sim->consume(_input);
      }
      sim->consume(_input);
    }
  }
}

// ---------------------------------------------------------------- items --

program : item* EOF ;

item
  : importDecl
  | typeDef
  | structDef
  | enumDef
  | externFn
  | fnDef
  | subgraphDef
  | constDef
  | processDecl
  | clusterDecl
  | channelDecl
  | locationBlock
  | statement
  ;

importDecl  : 'import' STRING ';' ;
typeDef     : 'type' IDENT '=' type ';' ;
structDef   : 'struct' IDENT '{' ( fieldDecl ( ',' fieldDecl )* ','? )? '}' ;
fieldDecl   : IDENT ':' type ;
enumDef     : 'enum' IDENT '{' ( variantDecl ( ',' variantDecl )* ','? )? '}' ;
variantDecl : IDENT ( '(' type ( ',' type )* ','? ')' )? ;
externFn    : 'extern' 'fn' IDENT '(' ( externParam ( ',' externParam )* ','? )? ')'
              ( '->' type )? ';' ;
externParam : IDENT ':' type ;
subgraphDef : 'subgraph' name=IDENT ( '(' ( externParam ( ',' externParam )* ','? )? ')' )?
              '[' ( ins+=IDENT ( ',' ins+=IDENT )* )? ']' '->' '[' ( outs+=IDENT ( ',' outs+=IDENT )* )? ']'
              open='{' statement* close='}' ;
fnDef       : 'fn' IDENT '(' ( externParam ( ',' externParam )* ','? )? ')' ( '->' type )? block ;
constDef    : 'const' IDENT ':' type '=' expr ';' ;
processDecl : 'process' IDENT ';' ;
clusterDecl : 'cluster' IDENT ( '[' INT ']' )? ';' ;
channelDecl : 'channel' IDENT ':' IDENT '->' IDENT channelOption* ';' ;
channelOption
  : 'broadcast'                 # channelBroadcast
  | 'hash' '(' expr ')'         # channelHash
  | IDENT '(' INT ( ',' INT IDENT )? ')' # channelBatch // `batch(N, Tus)`; `batch` is contextual
  | IDENT type?                 # channelOf        // `of T`; `of` is contextual
  ;
locationBlock : IDENT '{' statement* '}' ;
// The front end reads a location block a statement at a time, not as one
// `locationBlock` (a block may hold a whole program): it consumes `IDENT '{'`,
// parses each `statement`, and ends the block with this rule, which reports
// what stands where `}` was expected.
locationClose : '}' ;

// ----------------------------------------------------------- pipelines --

statement : ( IDENT '=' )? pipeline ';' ;
pipeline  : element ( '->' element )* ;
element   : inPort=port? elementBody outPort=port? ;
elementBody
  : operatorCall                # elemOperator
  | IDENT                       # elemName
  | '(' pipeline ')'            # elemNested
  ;
port : '[' ( INT | IDENT ) ']' ;
operatorCall
  : IDENT ( '::' '<' generic ( ',' generic )* ','? '>' )?
    '(' ( expr ( ',' expr )* ','? )? ')'
  ;
generic : LIFETIME | type ;

// --------------------------------------------------------------- types --

type
  : '(' ')'                                   # unitType
  | '(' type ')'                              # parenType
  | '(' type ',' ( type ( ',' type )* ','? )? ')'   # tupleType
  | '[' type ']'                              # listType
  | IDENT ( '<' type ( ',' type )* ','? '>' )?      # namedType
  ;

// --------------------------------------------------------- expressions --
// Alternatives are listed from the highest to the lowest precedence, as in
// Rust: postfix, unary, `as`, `* / %`, `+ -`, shifts, `&`, `^`, `|`,
// comparisons, `&&`, `||`, `..`, then closures (whose bodies extend as far as
// possible).

expr
  : primary                                                  # primaryExpr
  | expr '.' ( IDENT | INT | FLOAT )                         # fieldExpr
  | expr '[' expr ']'                                        # indexExpr
  | expr '(' ( expr ( ',' expr )* ','? )? ')'                # callExpr
  | op=( '-' | '!' ) expr                                    # unaryExpr
  | '&' ( {_input->LT(1)->getText() == "mut"}? IDENT )? expr  # refExpr   // a Rust habit: an error

  | expr 'as' type                                           # castExpr
  | expr op=( '*' | '/' | '%' ) expr                         # binaryExpr
  | expr op=( '+' | '-' ) expr                               # binaryExpr
  | expr ( '<<' | gt1='>' gt2='>' ) expr                     # shiftExpr
  | expr op='&' expr                                         # binaryExpr
  | expr op='^' expr                                         # binaryExpr
  | expr op='|' expr                                         # binaryExpr
  | expr ( op=( '==' | '!=' | '<' | '<=' ) | gt1='>' ( ge='=' )? ) expr   # compareExpr
  | expr op='&&' expr                                        # binaryExpr
  | expr op='||' expr                                        # binaryExpr
  | expr '..' expr                                           # rangeExpr
  | ( '|' ( lambdaParam ( ',' lambdaParam )* ','? )? '|' | '||' ) expr   # lambdaExpr
  ;

lambdaParam : pattern ( ':' type )? ;

primary
  : literal                                                  # literalPrimary
  | '(' ')'                                                  # unitPrimary
  | '(' expr ')'                                             # parenPrimary
  | '(' expr ',' ( expr ( ',' expr )* ','? )? ')'            # tuplePrimary
  | '[' ( expr ( ',' expr )* ','? )? ']'                     # listPrimary
  | IDENT '!' ( '(' ( expr ( ',' expr )* ','? )? ')'
              | '[' ( expr ( ',' expr )* ','? )? ']' )      # macroPrimary    // a Rust habit: an error
  | IDENT '{' ( fieldInit ( ',' fieldInit )* ','? )? '}'     # structPrimary
  | IDENT '::' IDENT                                         # pathPrimary
  | IDENT                                                    # namePrimary
  | '#' IDENT                                                # stateRefPrimary
  | kw=( 'Some' | 'None' | 'hash' )                          # keywordPrimary
  | ifExpr                                                   # ifPrimary
  | 'match' expr '{' matchArm* '}'                          # matchPrimary
  | block                                                    # blockPrimary
  ;

fieldInit : IDENT ( ':' expr )? ;   // without a value: a Rust habit, an error
ifExpr    : 'if' expr block ( 'else' ( block | ifExpr ) )? ;
matchArm  : pattern '=>' expr comma=','? ;   // a missing `,` is diagnosed later
block     : '{' blockStmt* expr? '}' ;
blockStmt
  : 'let' pattern ( ':' type )? '=' expr ';'                 # letStmt
  | expr ';'                                                 # exprStmt
  ;

literal
  : INT
  | FLOAT
  | STRING
  | 'true'
  | 'false'
  ;

// ------------------------------------------------------------ patterns --

pattern
  : '_'                                                      # wildcardPattern
  | '-'? ( INT | FLOAT )                                     # numberPattern
  | ( STRING | 'true' | 'false' )                            # literalPattern
  | '(' ')'                                                  # unitPattern
  | '(' pattern ')'                                          # parenPattern
  | '(' pattern ',' ( pattern ( ',' pattern )* ','? )? ')'   # tuplePattern
  | 'Some' '(' pattern ','? ')'                              # somePattern
  | 'None'                                                   # nonePattern
  | IDENT '::' IDENT ( '(' ( pattern ( ',' pattern )* ','? )? ')' )?   # variantPattern
  | IDENT '{' ( fieldPattern ( ',' fieldPattern )* ( ',' '..' )? ','? | '..' )? '}'  # structPattern
  | IDENT                                                    # bindPattern
  ;

fieldPattern : IDENT ( ':' pattern )? ;

// --------------------------------------------------------------- lexer --

LIFETIME : '\'' [A-Za-z_] [A-Za-z0-9_]* ;

FLOAT
  : DEC '.' DEC EXPONENT? FLOAT_SUFFIX?
  | DEC EXPONENT FLOAT_SUFFIX?
  | DEC FLOAT_SUFFIX
  ;
INT
  : DEC INT_SUFFIX?
  | '0x' [0-9a-fA-F_]+ INT_SUFFIX?
  ;

fragment DEC          : [0-9] [0-9_]* ;
fragment EXPONENT     : [eE] [+-]? [0-9_]+ ;
fragment FLOAT_SUFFIX : 'f32' | 'f64' ;
fragment INT_SUFFIX   : [iu] ( '8' | '16' | '32' | '64' ) ;

STRING : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '"' ;
UNTERMINATED_STRING : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* ;

IDENT : [A-Za-z_] [A-Za-z0-9_]* ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
// Block comments nest. The body after `/*` is consumed by a loop with a
// depth counter (blockCommentBody, above), in time linear in its length;
// a recursive non-greedy rule took 31 s and 3 GB for 4 KB of `/*`. A comment left
// open runs to the end of the file; the lexer scan in frontend/Parser.cpp
// checks that every `/*` of it is closed.
BLOCK_COMMENT : '/*' { blockCommentBody(); } -> channel(HIDDEN) ;
WS : [ \t\r\n\u000C]+ -> skip ;

// Anything else is one bad character. It is reported once by the lexer scan
// and hidden from the parser, so the rest of the file is still checked.
BAD_CHAR : . -> channel(HIDDEN) ;
