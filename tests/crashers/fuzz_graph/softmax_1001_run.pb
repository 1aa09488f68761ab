
7
inputPlaceholder*
dtype0*
shape:	é
"
softmaxSoftmaxinput*
T0"