
2
xPlaceholder*
dtype0*
shape
:
 
bad
Frobnicatexx*
T0"