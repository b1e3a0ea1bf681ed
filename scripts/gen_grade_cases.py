#!/usr/bin/env python3
"""Writes tests/fixtures/grade/cases.jsonl: answer pairs with the verdict a correct grader must give.

Every verdict here was decided by reasoning about the mathematics, never by running ttsearch's
grader. The hand-written table comes first; the generated families below it are equivalent or
different by construction (a fraction scaled by k/k is the same number; n and n + 1 are not).
Fields: pred, gold, equivalent, kind, and an optional note.
"""
import json
import os
from fractions import Fraction

T, F = True, False
cases = []


def add(kind, rows):
    for row in rows:
        pred, gold, eq = row[:3]
        case = {"pred": pred, "gold": gold, "equivalent": eq, "kind": kind}
        if len(row) > 3:
            case["note"] = row[3]
        cases.append(case)


add("integer", [
    ("42", "42", T), ("042", "42", T, "leading zero"), ("42.0", "42", T), ("42.00", "42", T),
    ("4.2 \\times 10^1", "42", T), ("4.2e1", "42", T, "scientific notation"),
    ("41", "42", F), ("-42", "42", F), ("420", "42", F), ("4.2", "42", F),
    ("\\$42", "42", T, "currency sign"), ("42 \\text{ dollars}", "42", T, "unit in text"),
    ("42 cm", "42", T, "bare unit word"), ("42^\\circ", "42", T), ("42\\%", "42", T, "percent sign dropped"),
    ("\\boxed{42}", "42", T), ("{42}", "42", T), ("42.", "42", T, "sentence period"),
    ("84/2", "42", T), ("6 \\cdot 7", "42", T), ("6 \\times 7", "42", T), ("2^5+10", "42", T),
    ("0", "0", T), ("-0", "0", T), ("0.0", "0", T), ("1", "0", F),
    ("-7", "-7", T), ("- 7", "-7", T), ("7", "-7", F),
    ("10080", "10,\\!080", T, "thousands separator"), ("10,080", "10080", T),
    ("10{,}080", "10080", T), ("10,\\!080", "10,080", T), ("10081", "10,\\!080", F),
    ("11111111100", "11,\\! 111,\\! 111,\\! 100", T), ("11111111000", "11,\\! 111,\\! 111,\\! 100", F),
    ("58,500", "58500", T), ("58500", "58,500", T), ("5850", "58,500", F),
    ("3!", "6", T, "factorial"), ("5!", "120", T), ("4!", "120", F),
    ("\\sqrt{16}", "4", T), ("\\sqrt{17}", "4", F), ("2^{10}", "1024", T), ("2^{10}", "1023", F),
    ("\\frac{12}{4}", "3", T), ("\\frac{12}{5}", "3", F),
])

add("aime", [
    ("25", "025", T), ("025", "025", T), ("24", "025", F), ("250", "025", F),
    ("\\boxed{073}", "073", T), ("73", "073", T), ("730", "073", F), ("37", "073", F),
    ("80", "080", T), ("8", "080", F), ("204", "204", T), ("205", "204", F),
    ("0", "000", T), ("999", "999", T), ("33", "033", T), ("3", "033", F),
])

add("fraction", [
    ("\\frac{14}{3}", "\\frac{14}{3}", T), ("\\dfrac{14}{3}", "\\frac{14}{3}", T),
    ("\\tfrac{14}{3}", "\\frac{14}{3}", T), ("14/3", "\\frac{14}{3}", T), ("\\frac{28}{6}", "\\frac{14}{3}", T),
    ("4\\frac{2}{3}", "\\frac{14}{3}", T, "mixed number"), ("4.66667", "\\frac{14}{3}", T, "within 1e-4 relative"),
    ("4.67", "\\frac{14}{3}", F, "7e-4 relative error"), ("\\frac{3}{14}", "\\frac{14}{3}", F),
    ("-\\frac{14}{3}", "\\frac{14}{3}", F), ("\\frac{14}{3} + 1", "\\frac{14}{3}", F),
    ("\\frac43", "\\frac{4}{3}", T, "one-character arguments"), ("\\frac 59", "5/9", T),
    ("\\frac9{19}", "\\frac{9}{19}", T), ("\\frac{270}7", "\\frac{270}{7}", T),
    ("0.5", "\\frac12", T), ("\\frac{1}{2}", "0.5", T), (".5", "\\frac12", T), ("\\frac{2}{4}", "\\frac12", T),
    ("1/2", "\\frac{1}{2}", T), ("\\frac{1}{3}", "0.33", F, "1% off"), ("\\frac{1}{2}", "\\frac{1}{3}", F),
    ("\\frac{-3}{8}", "-\\frac{3}{8}", T), ("-3/8", "-\\frac{3}{8}", T), ("3/-8", "-\\frac{3}{8}", T),
    ("\\frac{3}{-8}", "-\\frac{3}{8}", T), ("-0.375", "-\\frac{3}{8}", T), ("\\frac{3}{8}", "-\\frac{3}{8}", F),
    ("1\\frac{4}{5}", "\\frac{9}{5}", T), ("1.8", "1\\frac{4}{5}", T), ("\\frac{4}{5}", "1\\frac{4}{5}", F),
    ("137 \\frac{1}{2}", "137.5", T), ("275/2", "137 \\frac{1}{2}", T), ("137\\frac12", "137 \\frac{1}{2}", T),
    ("68.5", "137 \\frac{1}{2}", F, "137 times a half is not the mixed number"),
    ("\\frac{243}{625}", "0.3888", T), ("\\frac{243}{625}", "0.3889", F, "2.6e-4 relative"),
    ("\\dfrac{33}{100}", "0.33", T), ("\\frac{33}{100}", "33\\%", T, "percent leniency: 33% is 0.33"),
    ("\\frac{448}{15625}", "0.028672", T), ("\\frac{448}{15625}", "0.0287", F),
    ("\\frac{3840}{289}", "\\frac{3840}{289}", T), ("\\frac{3841}{289}", "\\frac{3840}{289}", F),
])

add("decimal", [
    ("1.25", "\\frac54", T), ("1.250", "1.25", T), ("1.2500", "1.25", T), ("1.26", "1.25", F),
    (".0000672", "0.0000672", T), ("6.72 \\times 10^{-5}", ".0000672", T), ("6.72e-5", ".0000672", T),
    ("6.73e-5", ".0000672", F), ("0.000672", ".0000672", F),
    (".35625", "\\frac{57}{160}", T), ("0.15", "\\frac{3}{20}", T), ("0.16", "\\frac{3}{20}", F),
    ("3.21", "3.210", T), ("3.2", "3.21", F), ("326.5", "\\frac{653}{2}", T), ("326", "326.5", F),
    ("4.5", "\\frac{9}{2}", T), ("4.05", "4.5", F),
])

add("radical", [
    ("3\\sqrt{13}", "3\\sqrt{13}", T), ("3 \\sqrt{13}", "3\\sqrt{13}", T), ("\\sqrt{117}", "3\\sqrt{13}", T),
    ("3\\sqrt13", "3\\sqrt{13}", F, "LaTeX reads \\sqrt13 as \\sqrt{1}3"), ("3\\sqrt13", "9", T), ("3*\\sqrt{13}", "3\\sqrt{13}", T), ("3 \\cdot \\sqrt{13}", "3\\sqrt{13}", T),
    ("\\sqrt{13}\\cdot 3", "3\\sqrt{13}", T), ("13\\sqrt{3}", "3\\sqrt{13}", F), ("3\\sqrt{12}", "3\\sqrt{13}", F),
    ("10.8167", "3\\sqrt{13}", T, "4.6e-6 relative"), ("10.8", "3\\sqrt{13}", F),
    ("11\\sqrt{2}", "11\\sqrt2", T), ("\\sqrt{242}", "11\\sqrt2", T), ("11 \\sqrt{3}", "11\\sqrt2", F),
    ("\\frac{1}{\\sqrt{3}}", "\\frac{\\sqrt{3}}{3}", T), ("\\frac{\\sqrt3}{3}", "\\frac{\\sqrt{3}}{3}", T),
    ("\\sqrt{3}/3", "\\frac{\\sqrt{3}}{3}", T), ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt{3}}{3}", F),
    ("-\\sqrt3", "-\\sqrt{3}", T), ("\\sqrt{3}", "-\\sqrt{3}", F),
    ("\\sqrt{20}", "2\\sqrt{5}", T), ("\\sqrt{5}", "2\\sqrt{5}", F), ("2 \\sqrt{5}", "2\\sqrt{5}", T),
    ("\\frac34\\sqrt3", "\\frac{3\\sqrt{3}}{4}", T), ("0.75\\sqrt{3}", "\\frac{3\\sqrt{3}}{4}", T),
    ("\\frac{3\\sqrt{3}}{2}", "\\frac{3\\sqrt{3}}{4}", F),
    ("\\sqrt[3]{8}", "2", T), ("\\sqrt[3]{16}", "2\\sqrt[3]{2}", T), ("\\sqrt[3]{-27}", "-3", T), ("\\sqrt[3]{9}", "3", F),
    ("2\\sqrt{3}+1", "1+2\\sqrt{3}", T), ("1+\\sqrt{12}", "1+2\\sqrt{3}", T), ("1-2\\sqrt{3}", "1+2\\sqrt{3}", F),
    ("11(\\sqrt{5}+1)", "11 \\sqrt{5} + 11", T), ("11\\sqrt5+11", "11 \\sqrt{5} + 11", T),
    ("11\\sqrt{5}", "11 \\sqrt{5} + 11", F), ("\\sqrt{51}", "\\sqrt{51}", T), ("\\sqrt{50}", "\\sqrt{51}", F),
    ("70\\sqrt{2}", "70 \\sqrt{2}", T), ("\\sqrt{9800}", "70 \\sqrt{2}", T), ("7\\sqrt{20}", "70 \\sqrt{2}", F),
    ("\\frac{\\sqrt{21}}{5}", "\\sqrt{\\frac{21}{25}}", T), ("\\frac{\\sqrt{21}}{25}", "\\frac{\\sqrt{21}}{5}", F),
])

add("pi", [
    ("\\pi", "\\pi", T), ("3.14159", "\\pi", T), ("3.14", "\\pi", F), ("\\frac{\\pi}{1}", "\\pi", T),
    ("-\\pi/6", "-\\frac{\\pi}{6}", T), ("\\frac{-\\pi}{6}", "-\\frac{\\pi}{6}", T), ("\\frac{\\pi}{6}", "-\\frac{\\pi}{6}", F),
    ("288\\pi", "288 \\pi", T), ("\\pi \\cdot 288", "288 \\pi", T), ("288", "288 \\pi", F), ("904.779", "288 \\pi", T),
    ("2\\pi+18", "18+2\\pi", T), ("2(9+\\pi)", "18+2\\pi", T), ("18 + \\pi", "18+2\\pi", F),
    ("20000/\\pi", "\\frac{20000}{\\pi}", T), ("20000\\pi", "\\frac{20000}{\\pi}", F),
    ("7 \\pi", "7\\pi", T), ("\\pi 7", "7\\pi", T), ("7\\pi^2", "7\\pi", F), ("12\\pi", "12\\pi", T), ("6\\pi", "12\\pi", F),
    ("8 \\pi", "8\\pi", T), ("8", "8\\pi", F),
])

add("degrees", [
    ("90", "90^\\circ", T), ("90^{\\circ}", "90^\\circ", T), ("90°", "90^\\circ", T), ("90 degrees", "90^\\circ", T),
    ("90\\text{ degrees}", "90^\\circ", T), ("90^\\circ", "90", T), ("89", "90^\\circ", F), ("180", "90^\\circ", F),
    ("145", "145^\\circ", T), ("35", "145^\\circ", F), ("\\frac{270}{7}", "\\frac{270}7\\text{ degrees}", T),
    ("38.5714", "\\frac{270}7\\text{ degrees}", T), ("38.6", "\\frac{270}7\\text{ degrees}", F),
    ("30^\\circ", "30^\\circ", T), ("60^\\circ", "30^\\circ", F), ("120^{\\circ}", "120^\\circ", T),
])

add("percent", [
    ("25\\%", "25", T), ("25%", "25", T), ("25", "25\\%", T), ("25 percent", "25", T),
    ("0.25", "25\\%", T, "percent leniency: 25% is 0.25"), ("26\\%", "25", F), ("0.26", "25\\%", F),
    ("2.5", "25\\%", F), ("25\\%", "0.25", T), ("25\\%", "0.26", F),
])

add("units", [
    ("864", "864 \\mbox{ inches}^2", T, "the unit's exponent goes with the unit"),
    ("864^2", "864 \\mbox{ inches}^2", F, "the reference normalizer's bug would accept this"),
    ("864 square inches", "864 \\mbox{ inches}^2", T), ("865", "864 \\mbox{ inches}^2", F),
    ("15", "15\\mbox{ cm}^2", T), ("15 cm^2", "15\\mbox{ cm}^2", T), ("15\\text{ cm}^2", "15\\mbox{ cm}^2", T),
    ("225", "15\\mbox{ cm}^2", F),
    ("5.4", "5.4 \\text{ cents}", T), ("5.4 cents", "5.4 \\text{ cents}", T), ("5.40", "5.4 \\text{ cents}", T),
    ("54", "5.4 \\text{ cents}", F),
    ("32348", "\\$32,\\!348", T), ("32,348", "\\$32,\\!348", T), ("\\$32348", "\\$32,\\!348", T), ("32349", "\\$32,\\!348", F),
    ("18.9", "\\$18.90", T), ("18.90", "\\$18.90", T), ("\\$18.9", "\\$18.90", T), ("18.09", "\\$18.90", F),
    ("36", "\\$36", T), ("36 dollars", "\\$36", T), ("\\$ 36", "\\$36", T), ("37", "\\$36", F),
    ("18 students", "18", T), ("4 square feet", "4", T), ("10 \\text{ inches}", "10", T),
])

add("complex", [
    ("6-5i", "6 - 5i", T), ("-5i+6", "6 - 5i", T), ("6 - 5 i", "6 - 5i", T), ("(6-5i)", "6 - 5i", T),
    ("6+5i", "6 - 5i", F), ("5i-6", "6 - 5i", F), ("6-5j", "6 - 5i", F, "j is a variable, not the unit"),
    ("9i+6", "6+9i", T), ("6+9", "6+9i", F), ("-2+7i", "-2 + 7i", T), ("7i-2", "-2 + 7i", T), ("2+7i", "-2 + 7i", F),
    ("274i+1", "1+274i", T), ("1+247i", "1+274i", F), ("1-12i", "1 - 12i", T), ("1+12i", "1 - 12i", F),
    ("\\frac{2+4i}{2}", "1+2i", T), ("1+2i", "1+2i", T), ("2+i", "1+2i", F), ("i^2", "-1", T), ("i^2", "1", F),
    ("(1+i)^2", "2i", T), ("\\sqrt{-4}", "2i", T), ("-2i", "2i", F),
])

add("base_n", [
    ("52_8", "52_8", T), ("52_{8}", "52_8", T), ("52", "52_8", T, "base subscript left off, digits match"),
    ("42", "52_8", F, "decimal value of 52_8 is not an answer in base 8"), ("52_9", "52_8", F), ("25_8", "52_8", F),
    ("4210_5", "4210_{5}", T), ("4210_{5}", "4210_{5}", T), ("4201_5", "4210_{5}", F),
    ("2516_{8}", "2516_8", T), ("2516_8", "2516_8", T), ("2517_8", "2516_8", F),
    ("204_{5}", "204_5", T), ("0204_5", "204_5", T), ("204_6", "204_5", F),
    ("40_{9}", "40_9", T), ("4343_6", "4343_6", T), ("4334_6", "4343_6", F),
])

add("tuple", [
    ("(6, 31, -1)", "(6,31,-1)", T), ("\\left(6,31,-1\\right)", "(6,31,-1)", T), ("(6,-1,31)", "(6,31,-1)", F),
    ("[6,31,-1]", "(6,31,-1)", F, "bracket type respected"), ("6,31,-1", "(6,31,-1)", F, "a list is not a point"),
    ("(6,31)", "(6,31,-1)", F),
    ("(3,\\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", T), ("(3, \\pi/2)", "\\left( 3, \\frac{\\pi}{2} \\right)", T),
    ("(\\frac{\\pi}{2}, 3)", "\\left( 3, \\frac{\\pi}{2} \\right)", F), ("(3, 90)", "\\left( 3, \\frac{\\pi}{2} \\right)", F),
    ("(-2, 1)", "(-2,1)", T), ("(1,-2)", "(-2,1)", F), ("(15,-29)", "(15,-29)", T), ("(15,29)", "(15,-29)", F),
    ("(1.5, -13)", "\\left( \\frac{3}{2}, -13 \\right)", T), ("(\\frac32,-13)", "\\left( \\frac{3}{2}, -13 \\right)", T),
    ("(1, -16, -4, 43)", "(1,-16,-4,43)", T), ("(1,-16,-4,42)", "(1,-16,-4,43)", F),
    ("(8,-2)", "(8,-2)", T), ("(-2,8)", "(8,-2)", F), ("(-1,6)", "(-1,6)", T), ("(-1,-6)", "(-1,6)", F),
])

add("interval", [
    ("(3, 4]", "(3,4]", T), ("\\left(3,4\\right]", "(3,4]", T), ("(3,4)", "(3,4]", F), ("[3,4]", "(3,4]", F),
    ("(2, \\infty)", "(2,\\infty)", T), ("(2, +\\infty)", "(2,\\infty)", T), ("[2,\\infty)", "(2,\\infty)", F),
    ("(3,\\infty)", "(2,\\infty)", F), ("(-\\infty,2)", "(2,\\infty)", F),
    ("(-\\infty,0]", "(-\\infty, 0]", T), ("(-\\infty, 0)", "(-\\infty, 0]", F), ("(\\infty, 0]", "(-\\infty, 0]", F),
    ("(0.6, \\frac{8}{3}]", "\\left(\\frac{3}{5},\\frac{8}{3}\\right]", T),
    ("(\\frac{3}{5},\\frac{8}{3})", "\\left(\\frac{3}{5},\\frac{8}{3}\\right]", F),
    ("(-\\sqrt3,\\sqrt3)", "(-\\sqrt{3}, \\sqrt{3})", T), ("[-\\sqrt3,\\sqrt3]", "(-\\sqrt{3}, \\sqrt{3})", F),
    ("[-2,7]", "x \\in [-2,7]", T), ("x \\in [-2, 7]", "[-2,7]", T), ("(-2,7)", "x \\in [-2,7]", F),
    ("[\\frac{\\pi^2}{8},\\frac{5\\pi^2}{4}]", "\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]", T),
    ("(\\frac{\\pi^2}{8},\\frac{5\\pi^2}{4})", "\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]", F),
    ("(5,\\infty)", "(5,\\infty)", T), ("(5,\\infty]", "(5,\\infty)", F), ("(2,4)", "(2,4)", T), ("(2,4]", "(2,4)", F),
])

add("union", [
    ("(0,9)\\cup(9,36)", "(0,9) \\cup (9,36)", T), ("(9,36) \\cup (0,9)", "(0,9) \\cup (9,36)", T),
    ("(0,36)", "(0,9) \\cup (9,36)", F), ("(0,9] \\cup (9,36)", "(0,9) \\cup (9,36)", F),
    ("(-\\infty,2)\\cup(3,\\infty)", "(-\\infty, 2) \\cup (3, \\infty)", T),
    ("(-\\infty,2]\\cup(3,\\infty)", "(-\\infty, 2) \\cup (3, \\infty)", F),
    ("(2,12)\\cup(12,102)", "(2,12) \\cup (12,102)", T), ("(2,12)\\cup(12,101)", "(2,12) \\cup (12,102)", F),
])

add("unordered_list", [
    ("-2, 1", "1,-2", T), ("1, -2", "1,-2", T), ("x=1, x=-2", "1,-2", T), ("x = 1 \\text{ or } x = -2", "1,-2", T),
    ("1", "1,-2", F), ("1,2", "1,-2", F), ("1,-2,3", "1,-2", F),
    ("7,5,3", "3, 5, 7", T), ("3,5", "3, 5, 7", F), ("3,5,7,9", "3, 5, 7", F), ("5, 3, 7", "3, 5, 7", T),
    ("1,-2", "-2,1", T), ("\\{1,2\\}", "1,2", T, "a set and a list of solutions"), ("\\{2,1\\}", "1,2", T),
    ("-2, 1+\\sqrt5, 1-\\sqrt5", "\\{1\\pm\\sqrt{5},-2\\}", T), ("1+\\sqrt{5}, 1-\\sqrt{5}", "\\{1\\pm\\sqrt{5},-2\\}", F),
    ("1-\\sqrt{5},-2,1+\\sqrt5", "\\{1\\pm\\sqrt{5},-2\\}", T),
    ("1+\\sqrt{19}, 1-\\sqrt{19}", "1 \\pm \\sqrt{19}", T), ("1+\\sqrt{19}", "1 \\pm \\sqrt{19}", F),
    ("1 \\mp \\sqrt{19}", "1 \\pm \\sqrt{19}", T), ("1 \\pm \\sqrt{18}", "1 \\pm \\sqrt{19}", F),
    ("3+2\\sqrt2,3-2\\sqrt2", "3 \\pm 2 \\sqrt{2}", T), ("3 \\pm \\sqrt{8}", "3 \\pm 2 \\sqrt{2}", T),
    ("3 \\pm 2", "3 \\pm 2 \\sqrt{2}", F), ("\\pm 2", "2, -2", T), ("2", "2, -2", F),
])

add("matrix", [
    ("\\begin{pmatrix} -\\frac{1}{3} \\\\ \\frac{2}{3} \\\\ \\frac{5}{3} \\end{pmatrix}",
     "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}", T),
    ("\\begin{pmatrix} -1/3 \\\\ 5/3 \\\\ 2/3 \\end{pmatrix}", "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}", F),
    ("\\begin{bmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{bmatrix}", "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}", T),
    ("\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", T),
    ("\\begin{pmatrix} 1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", F),
    ("\\begin{pmatrix} -1 \\\\ -1 \\end{pmatrix}", "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", F),
    ("\\begin{pmatrix} 0.2 \\\\ -3.6 \\end{pmatrix}", "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", T),
    ("\\begin{pmatrix} 0.2 \\\\ 3.6 \\end{pmatrix}", "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", F),
    ("\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}", "\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}", T),
    ("\\begin{pmatrix} -2 \\\\ -14 \\end{pmatrix}", "\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}", F),
    ("\\begin{pmatrix} \\frac{16}{49} \\\\ \\frac{48}{49} \\\\ \\frac{24}{49} \\end{pmatrix}",
     "\\begin{pmatrix} 16/49 \\\\ 48/49 \\\\ 24/49 \\end{pmatrix}", T),
])

add("equation", [
    ("y=2x+3", "y = 2x + 3", T), ("y = 3 + 2x", "y = 2x + 3", T), ("2x+3", "y = 2x + 3", T, "y = prefix dropped"),
    ("y = 2x - 3", "y = 2x + 3", F), ("y = 3x + 2", "y = 2x + 3", F),
    ("5x-7y+11z+4=0", "5x - 7y + 11z + 4 = 0", T), ("-5x + 7y - 11z - 4 = 0", "5x - 7y + 11z + 4 = 0", T),
    ("10x - 14y + 22z + 8 = 0", "5x - 7y + 11z + 4 = 0", T, "same plane scaled by 2"),
    ("5x - 7y + 11z = -4", "5x - 7y + 11z + 4 = 0", T), ("5x - 7y + 11z - 4 = 0", "5x - 7y + 11z + 4 = 0", F),
    ("5x - 7y + 11z + 4 = 1", "5x - 7y + 11z + 4 = 0", F),
    ("-2x", "y = -2x", T), ("y=-2x", "y = -2x", T), ("y = 2x", "y = -2x", F),
    ("5", "x=5", T), ("x = 5", "x=5", T), ("x=-5", "x=5", F), ("x=5", "5", T),
])

add("expression", [
    ("-q + p", "p - q", T), ("p-q", "p - q", T), ("q - p", "p - q", F), ("p + q", "p - q", F),
    ("x^5-x^4+x^3-x^2+x-1", "x^5 - x^4 + x^3 - x^2 + x - 1", T),
    ("(x-1)(x^4+x^2+1)", "x^5 - x^4 + x^3 - x^2 + x - 1", T, "expanded product"),
    ("x^5 + x^4 + x^3 + x^2 + x + 1", "x^5 - x^4 + x^3 - x^2 + x - 1", F),
    ("3x + x^3 - 6", "x^3+3x-6", T), ("x^3+3x+6", "x^3+3x-6", F),
    ("\\frac{\\cos x}{\\sin x}", "\\cot x", T), ("\\frac{1}{\\tan x}", "\\cot x", T), ("\\tan x", "\\cot x", F),
    ("2(k+1)", "2k+2", T), ("2k+1", "2k+2", F), ("2n+2", "2k+2", F, "different variable"),
    ("ab+2a+5b+10", "(a+5)(b+2)", T), ("(a+2)(b+5)", "(a+5)(b+2)", F), ("(b+2)(a+5)", "(a+5)(b+2)", T),
    ("3-13x", "-13x+3", T), ("-13x-3", "-13x+3", F),
    ("k+k", "2k", T), ("k^2", "2k", F), ("2 k", "2k", T),
    ("2(3r^2-2r-12)", "6r^2-4r-24", T), ("6r^2-4r+24", "6r^2-4r-24", F),
    ("1+4n+8n^2", "8n^2 + 4n + 1", T), ("8n^2+4n", "8n^2 + 4n + 1", F),
    ("5 r^5", "5r^5", T), ("5r^4", "5r^5", F), ("3 R^2", "3R^2", T), ("3r^2", "3R^2", F, "variables are case-sensitive"),
    ("\\frac{9a+11}{20}", "\\frac{11+9a}{20}", T), ("0.55+0.45a", "\\frac{11+9a}{20}", T),
    ("\\frac{11+9a}{2}", "\\frac{11+9a}{20}", F),
    ("5(3x-16)", "15x - 80", T), ("15x-8", "15x - 80", F),
    ("\\frac{x^9-1}{x-1}", "x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1", T),
    ("x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x", "x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1", F),
    ("\\sin^2 x + \\cos^2 x", "1", T, "an identity: the value does not depend on x"),
    ("x^{1/2}", "\\sqrt{x}", T), ("x^{1/3}", "\\sqrt{x}", F), ("x+y-y", "x", T), ("x+y", "x", F),
])

add("text", [
    ("Evelyn", "\\text{Evelyn}", T), ("evelyn", "\\text{Evelyn}", T), ("\\text{Navin}", "\\text{Evelyn}", F),
    ("east", "\\text{east}", T), ("\\text{west}", "\\text{east}", F, "the reference normalizer would match these"),
    ("\\textbf{east}", "\\text{east}", T), ("", "\\text{east}", F),
    ("even", "\\text{even}", T), ("\\text{odd}", "\\text{even}", F), ("\\text{Even}", "\\text{even}", T),
    ("\\text{ellipse}", "\\text{ellipse}", T), ("\\text{parabola}", "\\text{ellipse}", F), ("ellipse", "\\text{ellipse}", T),
    ("\\text{Navin}", "\\text{Navin}", T), ("Navin", "\\text{Navin}", T), ("Nav", "\\text{Navin}", F),
])

add("choice", [
    ("C", "\\text{(C)}", T), ("(C)", "\\text{(C)}", T), ("\\text{C}", "\\text{(C)}", T), ("(c)", "\\text{(C)}", T),
    ("(B)", "\\text{(C)}", F), ("\\text{(B)}", "\\text{(B)}", T), ("B", "\\text{(B)}", T), ("E", "\\text{(E)}", T),
    ("(D)", "\\text{(E)}", F), ("A", "\\text{(E)}", F),
])

add("solution_text", [
    ("So the answer is $\\boxed{\\frac{1}{2}}$.", "\\frac12", T),
    ("First \\boxed{3}, but correcting: \\boxed{4}", "4", T), ("First \\boxed{3}, but correcting: \\boxed{4}", "3", F),
    ("## Step 1: ...\n\nTherefore, the final answer is: $\\boxed{5}$. I hope it is correct.", "5", T),
    ("Therefore, the final answer is: $5$. I hope it is correct.", "5", T),
    ("Therefore, the final answer is: $6$. I hope it is correct.", "5", F),
    ("The answer is 12.", "12", T), ("We find x = 7 after simplifying.", "7", T),
    ("The solutions are $x = 1$ and $x=-2$, so $\\boxed{1, -2}$.", "1,-2", T),
    ("Thus $\\boxed{(3, \\frac{\\pi}{2})}$.", "\\left( 3, \\frac{\\pi}{2} \\right)", T),
    ("Hence \\fbox{$\\frac{14}{3}$}.", "\\frac{14}{3}", T),
    ("The area is $\\boxed{864 \\text{ square inches}}$.", "864 \\mbox{ inches}^2", T),
    ("Nothing here.", "5", F),
])


# Generated families: verdicts hold by construction.
fractions = [(1, 2), (2, 3), (3, 4), (5, 7), (7, 12), (9, 16), (11, 36), (13, 15), (17, 21), (35, 64),
             (243, 625), (-3, 8), (-24, 25), (14, 3), (1997, 2)]
for a, b in fractions:
    gold = f"\\frac{{{a}}}{{{b}}}" if a > 0 else f"-\\frac{{{-a}}}{{{b}}}"
    for k in (2, 3):
        add("generated_fraction", [(f"\\frac{{{a * k}}}{{{b * k}}}", gold, T, f"scaled by {k}/{k}")])
    add("generated_fraction", [
        (f"{a}/{b}", gold, T),
        (f"{float(Fraction(a, b)):.6g}", gold, T, "six significant digits: relative error under 1e-5"),
        (f"\\frac{{{a + 1}}}{{{b}}}", gold, F, "numerator off by one"),
        (f"\\frac{{{b}}}{{{a}}}", gold, F, "reciprocal"),
    ])

for n in (1, 7, 12, 25, 100, 204, 999, 1024, 2016, 123456):
    add("generated_integer", [
        (str(n), str(n), T), (f"\\boxed{{{n}}}", str(n), T), (f"{n}.0", str(n), T),
        (str(n + 1), str(n), F), (str(-n), str(n), F), (f"{n}/1", str(n), T),
    ])

# Answer forms added after the first table (appended so that the earlier cases keep their lines).
add("repeating_decimal", [
    ("0.\\overline{7}", "\\frac{7}{9}", T), ("2.\\overline{1}", "\\frac{19}{9}", T),
    ("0.1\\overline{6}", "\\frac{1}{6}", T), ("0.41\\overline{2}", "\\frac{371}{900}", T, "0.41 + 2/900"),
    ("0.\\overline{27}", "\\frac{3}{11}", T, "27/99"), ("0.\\bar{3}", "\\frac13", T),
    ("0.(3)", "\\frac13", T, "parenthesized block"), ("0.1(6)", "\\frac{1}{6}", T),
    ("0.\\dot{3}", "\\frac13", T, "dot notation"), ("0.\\dot{1}\\dot{8}", "\\frac{2}{11}", T, "dots on the block's first and last digits"),
    ("0.\\overline{7}", "0.\\overline{77}", T), ("-0.\\overline{3}", "-\\frac13", T), ("1.\\overline{9}", "2", T, "1.999... = 2"),
    ("0.\\overline{7}", "0.7778", T, "a rounded decimal within 1e-4"),
    ("0.\\overline{7}", "0.7", F), ("0.\\overline{7}", "\\frac{7}{10}", F),
    ("0.\\overline{27}", "0.2\\overline{7}", F, "3/11 vs 5/18"), ("0.1\\overline{6}", "0.\\overline{16}", F, "1/6 vs 16/99"),
    ("0.\\overline{3}", "0.33", F, "1e-2 relative error"), ("2.\\overline{1}", "\\frac{21}{9}", F),
])

add("binomial", [
    ("\\binom{9}{4}", "126", T), ("\\dbinom{9}{4}", "126", T), ("\\tbinom{9}{4}", "126", T),
    ("{9 \\choose 4}", "126", T), ("\\binom94", "126", T, "one-character arguments"),
    ("\\binom{9}{5}", "\\binom{9}{4}", T, "symmetry"), ("\\binom{9}{4}\\binom{5}{2}", "1260", T, "a product"),
    ("\\binom{5}{2} \\cdot \\binom{3}{1}", "30", T), ("\\frac{\\binom{4}{2}}{\\binom{8}{2}}", "\\frac{3}{14}", T),
    ("\\binom{50}{25}", "126410606437752", T), ("\\binom{n}{2}", "\\frac{n(n-1)}{2}", T, "in a variable"),
    ("\\binom{3}{5}", "0", T, "k > n"), ("2^{10} - \\binom{10}{0}", "1023", T),
    ("\\binom{9}{4}", "84", F), ("\\binom{9}{3}", "126", F), ("\\binom{9}{4}", "\\binom{9}{3}", F),
    ("\\binom{9}{4}", "4", F, "not its last number"), ("{9 \\choose 4}", "\\binom{10}{4}", F),
    ("\\binom{n}{2}", "\\frac{n(n+1)}{2}", F),
])

add("scaled_matrix", [
    ("\\frac{2}{7}\\begin{pmatrix} 7 \\\\ -14 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ -4 \\end{pmatrix}", T),
    ("-\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "\\begin{pmatrix} -1 \\\\ 2 \\end{pmatrix}", T),
    ("3\\begin{pmatrix} 1 & 2 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix} 3 & 6 \\\\ 0 & -3 \\end{pmatrix}", T),
    ("3 \\cdot \\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 3 \\\\ 6 \\end{pmatrix}", T),
    ("\\frac{1}{3} \\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1/3 \\\\ 2/3 \\end{pmatrix}", T),
    ("\\frac{1}{2}\\begin{pmatrix} 2 \\\\ 4 \\end{pmatrix}", "\\frac{1}{3}\\begin{pmatrix} 3 \\\\ 6 \\end{pmatrix}", T),
    ("\\sqrt{2}\\begin{pmatrix} 1 \\\\ 1 \\end{pmatrix}", "\\begin{pmatrix} \\sqrt{2} \\\\ \\sqrt{2} \\end{pmatrix}", T),
    ("2\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", F, "a different scalar"),
    ("\\frac{2}{7}\\begin{pmatrix} 7 \\\\ -14 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 4 \\end{pmatrix}", F),
    ("-\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", F),
    ("\\frac{2}{7}\\begin{pmatrix} 7 \\\\ -14 \\end{pmatrix}", "\\frac{2}{5}\\begin{pmatrix} 5 \\\\ -14 \\end{pmatrix}", F),
])

add("column_vector", [
    ("(1, -4, 9)", "\\begin{pmatrix} 1 \\\\ -4 \\\\ 9 \\end{pmatrix}", T, "a tuple is the column vector of its entries"),
    ("(2,-4)", "\\frac{2}{7}\\begin{pmatrix} 7 \\\\ -14 \\end{pmatrix}", T),
    ("\\left(\\frac{1}{5}, -\\frac{18}{5}\\right)", "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", T),
    ("(1, -4, 9)", "\\begin{pmatrix} 1 \\\\ 4 \\\\ 9 \\end{pmatrix}", F),
    ("(-4, 1, 9)", "\\begin{pmatrix} 1 \\\\ -4 \\\\ 9 \\end{pmatrix}", F, "order matters"),
    ("(1, -4)", "\\begin{pmatrix} 1 \\\\ -4 \\\\ 9 \\end{pmatrix}", F, "another length"),
    ("(1, -4, 9)", "\\begin{pmatrix} 1 & -4 & 9 \\end{pmatrix}", F, "a row matrix is not a column vector"),
    ("[1, -4, 9]", "\\begin{pmatrix} 1 \\\\ -4 \\\\ 9 \\end{pmatrix}", F, "a bracketed list is not a tuple"),
    ("1, -4, 9", "\\begin{pmatrix} 1 \\\\ -4 \\\\ 9 \\end{pmatrix}", F, "an unordered list is not a vector"),
])

add("inequality", [
    ("x > 1", "(1,\\infty)", T), ("x>1", "(1, \\infty)", T), ("1 < x", "(1,\\infty)", T),
    ("-5 \\le x \\le 2", "[-5,2]", T), ("-5 \\leq x \\leq 2", "[-5,2]", T), ("2 \\ge x \\ge -5", "[-5,2]", T),
    ("0 < k \\le 6", "(0,6]", T), ("y \\ge -3", "[-3,\\infty)", T), ("y \\geq -3", "[-3, \\infty)", T),
    ("k \\in [1,8)", "[1,8)", T), ("x < 3", "(-\\infty,3)", T), ("x \\le \\frac{1}{2}", "(-\\infty, \\frac12]", T),
    ("x <= 4", "(-\\infty,4]", T), ("x > 1", "1 < x", T),
    ("x < -2 \\text{ or } x > 3", "(-\\infty,-2) \\cup (3,\\infty)", T, "a union"),
    ("x < -2 or x > 3", "(-\\infty,-2)\\cup(3,\\infty)", T), ("x > 3 \\text{ or } x < -2", "(-\\infty,-2) \\cup (3,\\infty)", T),
    ("x \\le 0 \\text{ or } x \\ge 4", "(-\\infty, 0] \\cup [4, \\infty)", T),
    ("x \\ne 3", "(-\\infty,3) \\cup (3,\\infty)", T),
    ("x \\ge 1", "(1,\\infty)", F, "closed at 1"), ("x > 1", "[1,\\infty)", F), ("x > 2", "(1,\\infty)", F, "a different end"),
    ("-5 \\le x \\le 3", "[-5,2]", F), ("0 < k < 6", "(0,6]", F), ("x < 1", "(1,\\infty)", F),
    ("x > 1", "1", F, "an inequality is not its end"), ("x < -2 or x > 3", "(-\\infty,-2) \\cup (4,\\infty)", F),
    ("x < -2 or x \\ge 3", "(-\\infty,-2) \\cup (3,\\infty)", F),
])

add("assignment", [
    ("a=4, b=-7, c=2", "(4,-7,2)", T), ("a = 4, b = -7, c = 2", "(4, -7, 2)", T), ("x=1, y=2", "(1,2)", T),
    ("(a,b,c) = (4,-7,2)", "(4,-7,2)", T), ("(a, b, c) = (4, -7, 2)", "a=4, b=-7, c=2", T),
    ("b=-7, a=4, c=2", "a=4, b=-7, c=2", T, "the same values by name in another order"),
    ("a=\\frac{1}{2}, b=3", "(0.5, 3)", T),
    ("a=-7, b=4, c=2", "a=4, b=-7, c=2", F, "the values given to other variables"),
    ("(-7,4,2)", "a=4, b=-7, c=2", F, "a tuple in another order than the named values"),
    ("a=4, b=-7, c=2", "(4,-7,3)", F), ("a=4, b=-7", "(4,-7,2)", F, "another length"),
    ("a=4, b=-7, c=2", "[4,-7,2]", F, "a bracketed list is not a tuple"),
    ("a=4, b=-7, d=2", "a=4, b=-7, c=2", F, "another variable"),
])

add("equation", [
    ("3x - y + 5 = 0", "y = 3x + 5", T), ("y - 5 = 3x", "y = 3x + 5", T), ("3x - y + 5 = 0", "y - 5 = 3x", T),
    ("4x + y = 0", "y = -4x", T), ("3x + 5", "y = 3x + 5", T), ("x = 2y", "2y - x = 0", T),
    ("y = 3x + 4", "y = 3x + 5", F), ("3x - y + 4 = 0", "y = 3x + 5", F), ("y = -4x", "4x - y = 0", F),
    ("x = 2y", "y = 2x", F), ("3x + 4", "y = 3x + 5", F),
])

add("plus_minus", [
    ("\\pm\\sqrt{11} - 2", "-2 \\pm \\sqrt{11}", T, "the sign goes with the term after it"),
    ("-2 \\pm \\sqrt{11}", "-2+\\sqrt{11}, -2-\\sqrt{11}", T),
    ("\\frac{1 \\pm \\sqrt{5}}{2}", "\\frac{1+\\sqrt5}{2}, \\frac{1-\\sqrt5}{2}", T, "inside a fraction"),
    ("\\mp 3 + 1", "1 \\pm 3", T),
    ("\\pm\\sqrt{11} - 2", "2 \\pm \\sqrt{11}", F), ("\\pm\\sqrt{11} - 2", "-2 \\pm \\sqrt{10}", F),
    ("\\sqrt{11} \\pm 2", "-2 \\pm \\sqrt{11}", F), ("\\pm\\sqrt{11} - 2", "\\sqrt{11} - 2", F),
])

add("bare_answer", [
    ("\\binom{9}{4}", "126", T, "taken whole, not cut to its last number"), ("$\\binom{9}{4}$", "126", T),
    ("\\binom{9}{4}", "4", F), ("0.\\overline{7}", "\\frac79", T), ("0.\\overline{7}", "7", F),
    ("t > 2", "(2,\\infty)", T), ("$t > 2$", "(2, \\infty)", T), ("t > 2", "2", F),
    ("a=4, b=-7, c=2", "(4,-7,2)", T), ("a=4, b=-7, c=2", "2", F),
    ("\\frac{2}{7}\\begin{pmatrix} 7 \\\\ -14 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ -4 \\end{pmatrix}", T),
    ("\\begin{pmatrix} 1 \\\\\n -4 \\end{pmatrix}", "(1,-4)", T, "a matrix over two lines"),
    ("-5 \\le x \\le 2", "[-5,2]", T), ("\\pm\\sqrt{11} - 2", "-2 \\pm \\sqrt{11}", T),
    ("We choose 4 of the 9 in \\binom{9}{4} ways, which is 126.", "126", T, "prose: the last number"),
    ("So t must be more than 2", "2", T, "prose: the last number"),
])

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "grade", "cases.jsonl")
with open(out, "w") as f:
    for case in cases:
        f.write(json.dumps(case, ensure_ascii=False) + "\n")
print(f"{len(cases)} cases ({sum(c['equivalent'] for c in cases)} equivalent) -> {os.path.normpath(out)}")
