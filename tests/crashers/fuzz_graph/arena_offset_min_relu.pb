
G
inputPlaceholder*
dtype0*$
shape:ÿÿÿÿÿÿÿÿÿ

outReluinput*
T0"